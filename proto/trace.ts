/**
 * Phase marks for measuring a cold start: with `NANO_MODAL_TRACE=1`,
 * {@linkcode trace} prints `nano-modal trace <ms> <phase>` to stderr, in
 * milliseconds since this process started (`performance.now()`).
 * `bench/defaults_bench.ts` reads them for its per-phase breakdown.
 * @module
 */

const enabled = (() => {
  try {
    // Asking first: a script without --allow-env must not be prompted for this.
    const state = Deno.permissions.querySync({ name: "env", variable: "NANO_MODAL_TRACE" }).state;
    return state === "granted" && !!Deno.env.get("NANO_MODAL_TRACE");
  } catch {
    return false;
  }
})();

/** Marks that `phase` is reached (a no-op unless `NANO_MODAL_TRACE` is set). */
export function trace(phase: string): void {
  if (enabled) console.error(`nano-modal trace ${performance.now().toFixed(1)} ${phase}`);
}
