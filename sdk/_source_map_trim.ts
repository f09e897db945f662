/**
 * Drops source-map mappings into sources the user never sees: a sandbox pays
 * for every byte of a bundle's inline map when it imports it, and in a bundle
 * of `hello.ts` two thirds of the mappings point into the SDK's npm packages.
 * Frames there then show the bundle's position instead; the user's own files
 * (and the SDK's) keep theirs.
 */
import { rewriteMappings } from "./_vlq.ts";

/** `mappings` without the segments whose source index `drop` says to drop. */
export function trimMappings(mappings: string, drop: (source: number) => boolean): string {
  return rewriteMappings(mappings, (abs) => abs.length > 1 && drop(abs[1]) ? undefined : abs)
    .mappings;
}
