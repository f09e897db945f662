/**
 * How many sandboxes a function's pool keeps warm on this worker: the rule
 * behind `minContainers` and `bufferContainers`, apart from the pool's timing.
 */
import type { FunctionCache } from "./_functions.ts";
import { FUNCTION_CONTAINERS_PREFIX } from "../proto/heartbeat_figures.ts";

/** What the warm-target rule reads. */
export interface WarmInputs {
  /** The function's `minContainers` (0 once its app is superseded). */
  min: number;
  /** The function's `bufferContainers`: idle sandboxes kept beside busy ones. */
  buffer: number;
  /** The function's `maxContainers` (at least 1). */
  max: number;
  /** Sandboxes running at least one input now. */
  busy: number;
}

/**
 * Sandboxes to keep warm: `minContainers`, or while the function is busy
 * `busy + bufferContainers`, whichever is more, never above `maxContainers`.
 * An idle function (busy 0) keeps only `minContainers`: the buffer is for
 * bursts, not for idle time.
 */
export function warmTarget(w: WarmInputs): number {
  const max = Math.max(1, w.max);
  const wanted = w.busy > 0 ? Math.max(w.min, w.busy + w.buffer) : w.min;
  return Math.max(0, Math.min(max, wanted));
}

/**
 * Loads these functions and starts their minContainers sandboxes, before any
 * input (the control plane gave this worker their min-warm duty). A function
 * that fails to load is skipped: its first input reports the failure.
 */
export function warmFunctions(functions: FunctionCache, functionIds: string[]): void {
  for (const id of functionIds) {
    functions.get(id).then((info) => info.pool.warm(), () => {});
  }
}

/** Per-function container counts as heartbeat figures (`containers_fn:<function id>`). */
export function functionContainerFigures(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts).map(([id, n]) => [`${FUNCTION_CONTAINERS_PREFIX}${id}`, n]),
  );
}
