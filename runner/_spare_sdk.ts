/**
 * Which SDK a deno runner's spare sandboxes load before they know their app:
 * the one the last bundle it started began with (`proto/bundle_format.ts`),
 * kept in the cache dir for the next `nano-modal run`. A spare that loaded it
 * serves only a bundle that begins with that very SDK (`_spare.ts`). A worker
 * serving any client loads only an SDK {@linkcode builtHere}.
 * @module
 */
import type { SpareSdk } from "./_spare.ts";
import {
  LINKABLE_SDK_SUFFIX,
  sdkModule,
  sdkPartOf,
  type SplitBundle,
  splitBundle,
} from "../proto/bundle_format.ts";
import { writeAtomically } from "../proto/write_atomically.ts";

const file = (cacheDir: string) => `${cacheDir}/spare-sdk.js`;

/** Decides whether an SDK part may be loaded ahead (see {@linkcode builtHere}). */
export type SdkTrust = (part: string) => Promise<boolean>;

/** The SDK kept in `cacheDir`, if any (and if `trusted`, when given, trusts it). */
export async function keptSdk(
  cacheDir: string,
  trusted?: SdkTrust,
): Promise<SpareSdk | undefined> {
  try {
    const module = await Deno.readTextFile(file(cacheDir));
    const part = sdkPartOf(module);
    if (part === undefined || (trusted && !(await trusted(part)))) return undefined;
    return { part, module };
  } catch {
    return undefined;
  }
}

/**
 * Whether `part` is the SDK part that this host's own SDK bundler prepared in
 * `cacheDir` (`<bundle>.link.json`, written only by a `nano-modal run` of the
 * cache's user: never by a worker, which writes only the bundles clients
 * upload). Newest first: the current SDK is the likely one.
 */
export async function builtHere(cacheDir: string, part: string): Promise<boolean> {
  const dir = `${cacheDir}/bundles`;
  try {
    const found: { path: string; at: number }[] = [];
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile || !e.name.endsWith(LINKABLE_SDK_SUFFIX)) continue;
      const path = `${dir}/${e.name}`;
      const info = await Deno.stat(path).catch(() => undefined);
      if (info) found.push({ path, at: info.mtime?.getTime() ?? 0 });
    }
    for (const { path } of found.sort((a, b) => b.at - a.at)) {
      const code = await Deno.readTextFile(path).then((t) => JSON.parse(t).code, () => undefined);
      if (code === part) return true;
    }
  } catch {
    // No cache: nothing was built here.
  }
  return false;
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
 * `cacheDir`); `last` if it is, or if `trusted` (when given) refuses it; none
 * if the bundle is not linked to an SDK (the next spare then loads nothing
 * and may serve any bundle). Never rejects.
 */
export async function learnSdk(
  last: Promise<SpareSdk | undefined>,
  bundle: Promise<ReadBundle | undefined>,
  cacheDir: string | undefined,
  trusted?: SdkTrust,
): Promise<SpareSdk | undefined> {
  const known = await last.catch(() => undefined);
  try {
    const read = await bundle;
    if (!read) return known;
    const { text, parts } = read;
    if (!parts) return undefined;
    if (parts.sdkPart === known?.part) return known;
    if (trusted && !(await trusted(parts.sdkPart))) return known;
    const sdk = { part: parts.sdkPart, module: sdkModule(text, parts.sdkPart) };
    if (cacheDir) await writeAtomically(file(cacheDir), sdk.module).catch(() => {});
    return sdk;
  } catch {
    return known;
  }
}
