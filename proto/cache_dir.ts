/**
 * Where nano-modal keeps its caches on this machine (bundles, images,
 * sandboxes' directories): one place, found the same way by the CLI, the
 * worker and the SDK.
 * @module
 */

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
  const explicit = Deno.env.get("NANO_MODAL_CACHE");
  if (explicit) return explicit;
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/nano-modal`;
}
