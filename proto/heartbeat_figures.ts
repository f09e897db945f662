/**
 * Names in a worker heartbeat's `figures` map that both sides read.
 * @module
 */

/** `containers_fn:<function id>`: that function's warm sandboxes on the worker. */
export const FUNCTION_CONTAINERS_PREFIX = "containers_fn:";

/**
 * `allowance_seq`: the `seq` of the last `WorkAllowance` the worker applied
 * (0 before its first on this stream), so the control plane knows when a
 * lowered allowance took effect.
 */
export const ALLOWANCE_SEQ_FIGURE = "allowance_seq";

/** The per-function container counts in a heartbeat's figures, by function id. */
export function functionContainers(figures: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(figures)) {
    if (k.startsWith(FUNCTION_CONTAINERS_PREFIX) && v > 0) {
      out[k.slice(FUNCTION_CONTAINERS_PREFIX.length)] = v;
    }
  }
  return out;
}
