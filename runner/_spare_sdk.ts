/**
 * Which SDK a deno runner's spare sandboxes load before they know their app:
 * the one the last bundle it started began with (`proto/bundle_format.ts`),
 * kept in the cache dir for the next `nano-modal run`. A spare that loaded it
 * serves only a bundle that begins with that very SDK (`_spare.ts`).
 * @module
 */
import type { SpareSdk } from "./_spare.ts";
import { sdkModule, sdkPartOf, type SplitBundle, splitBundle } from "../proto/bundle_format.ts";
import { writeAtomically } from "../proto/write_atomically.ts";

const file = (cacheDir: string) => `${cacheDir}/spare-sdk.js`;

/** The SDK kept in `cacheDir`, if any. */
export async function keptSdk(cacheDir: string): Promise<SpareSdk | undefined> {
  try {
    const module = await Deno.readTextFile(file(cacheDir));
    const part = sdkPartOf(module);
    return part === undefined ? undefined : { part, module };
  } catch {
    return undefined;
  }
}

/** A bundle read once for both a spare's adoption and {@linkcode learnSdk}. */
export interface ReadBundle {
  text: string;
  /** Its SDK's and app's parts; undefined if it is not linked to an SDK. */
  parts: SplitBundle | undefined;
}

/** Reads and splits the bundle at `path`; undefined if it cannot be read. */
export function readBundle(path: string): Promise<ReadBundle | undefined> {
  return Deno.readTextFile(path).then(
    (text) => ({ text, parts: splitBundle(text) }),
    () => undefined,
  );
}

/**
 * The SDK `bundle` begins with, if it is not `last`'s (then kept in
 * `cacheDir`); `last` if it is; none if the bundle is not linked to an SDK
 * (the next spare then loads nothing and may serve any bundle). Never rejects.
 */
export async function learnSdk(
  last: Promise<SpareSdk | undefined>,
  bundle: Promise<ReadBundle | undefined>,
  cacheDir: string | undefined,
): Promise<SpareSdk | undefined> {
  const known = await last.catch(() => undefined);
  try {
    const read = await bundle;
    if (!read) return known;
    const { text, parts } = read;
    if (!parts) return undefined;
    if (parts.sdkPart === known?.part) return known;
    const sdk = { part: parts.sdkPart, module: sdkModule(text, parts.sdkPart) };
    if (cacheDir) await writeAtomically(file(cacheDir), sdk.module).catch(() => {});
    return sdk;
  } catch {
    return known;
  }
}
