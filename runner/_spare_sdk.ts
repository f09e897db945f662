/**
 * Which SDK a deno runner's spare sandboxes load before they know their app:
 * the one the last bundle it started began with (`proto/bundle_format.ts`),
 * kept in the cache dir for the next `nano-modal run`. A spare that loaded it
 * serves only a bundle that begins with that very SDK (`_spare.ts`).
 * @module
 */
import type { SpareSdk } from "./_spare.ts";
import { sdkModule, sdkPartOf, splitBundle } from "../proto/bundle_format.ts";

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

/**
 * The SDK `bundlePath` begins with, if it is not `last`'s (then kept in
 * `cacheDir`); `last` if it is; none if the bundle is not linked to an SDK
 * (the next spare then loads nothing and may serve any bundle). Never rejects.
 */
export async function learnSdk(
  last: Promise<SpareSdk | undefined>,
  bundlePath: string,
  cacheDir: string | undefined,
): Promise<SpareSdk | undefined> {
  const known = await last.catch(() => undefined);
  try {
    const text = await Deno.readTextFile(bundlePath);
    const parts = splitBundle(text);
    if (!parts) return undefined;
    if (parts.sdkPart === known?.part) return known;
    const sdk = { part: parts.sdkPart, module: sdkModule(text, parts.sdkPart) };
    if (cacheDir) {
      const tmp = `${file(cacheDir)}.${crypto.randomUUID()}.tmp`;
      await Deno.writeTextFile(tmp, sdk.module)
        .then(() => Deno.rename(tmp, file(cacheDir)))
        .catch(() => Deno.remove(tmp).catch(() => {}));
    }
    return sdk;
  } catch {
    return known;
  }
}
