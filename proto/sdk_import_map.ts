/**
 * What `@nano/modal` means in a user's script that has no deno.json: the SDK
 * this program ships. `nano-modal run`/`deploy` bundle and type-check such a
 * script with an import map saying so, for the bare and the `jsr:` form, so an
 * example copied out of the repo works as is.
 * @module
 */

/** The shipped SDK's URL. */
export const SHIPPED_SDK_URL: string = new URL("../sdk/mod.ts", import.meta.url).href;

/** The Deno config (deno.json or deno.jsonc) in `dir` or the nearest folder above it. */
export async function denoConfigPath(dir: string): Promise<string | undefined> {
  for (let d = dir;; d = d.slice(0, d.lastIndexOf("/")) || "/") {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const path = `${d === "/" ? "" : d}/${name}`;
      try {
        if ((await Deno.stat(path)).isFile) return path;
      } catch {
        // none here; look further up
      }
    }
    if (d === "/") return undefined;
  }
}

/** Whether `dir` or a folder above it has a Deno config (which then decides imports). */
export async function hasDenoConfig(dir: string): Promise<boolean> {
  return (await denoConfigPath(dir)) !== undefined;
}

/**
 * The `deno` flags that make `@nano/modal` the shipped SDK for a script in
 * `entryDir`: none when it has its own config or the SDK is not on disk, else
 * `--import-map` to a map written in `tmpDir`.
 */
export async function sdkImportMapFlags(entryDir: string, tmpDir: string): Promise<string[]> {
  if (!SHIPPED_SDK_URL.startsWith("file:") || await hasDenoConfig(entryDir)) return [];
  const path = `${tmpDir}/import_map.json`;
  const imports = { "@nano/modal": SHIPPED_SDK_URL, "jsr:@nano/modal": SHIPPED_SDK_URL };
  await Deno.writeTextFile(path, JSON.stringify({ imports }));
  return [`--import-map=${path}`];
}
