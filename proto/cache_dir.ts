/**
 * Where nano-modal keeps its caches on this machine (bundles, images,
 * sandboxes' directories): one place, found the same way by the CLI, the
 * worker and the SDK.
 * @module
 */

/**
 * Set by a test in place of `NANO_MODAL_CACHE`: a global of its own test file's isolate, where
 * the environment is the whole test process's (and is copied into every command another test
 * file starts, which then used a cache dir this test deleted).
 */
export const TEST_CACHE_DIR: symbol = Symbol.for("nano-modal.test-cache-dir");

/**
 * The cache directory: `NANO_MODAL_CACHE`, else `$XDG_CACHE_HOME/nano-modal`,
 * else `~/.cache/nano-modal`.
 *
 * @example
 * ```ts
 * import { cacheDir } from "./cache_dir.ts";
 * console.log(`bundles live in ${cacheDir()}/bundles`);
 * ```
 */
export function cacheDir(): string {
  const explicit = (globalThis as Record<symbol, string | undefined>)[TEST_CACHE_DIR] ??
    Deno.env.get("NANO_MODAL_CACHE");
  if (explicit) return explicit;
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/nano-modal`;
}
