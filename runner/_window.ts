/**
 * Pipelined dispatch: how many inputs beyond `concurrency` the worker keeps
 * queued at a sandbox, so a function that finishes in microseconds is not
 * held to one worker↔sandbox round trip per input. The sandbox still runs at
 * most `concurrency` at once; the queued ones start there in order.
 *
 * The window follows the function's recent run time (a moving average of what
 * the sandbox reports): deep for microsecond functions, one input per slot for
 * those of milliseconds to tens of milliseconds (the next input is already in
 * the sandbox when one ends: a CPU-bound function's cores do not idle through
 * the worker's turnaround, measured at 1–2 ms an input on 2 busy cores; at
 * worst an input waits one such run while another sandbox idles), none from
 * {@linkcode NO_WINDOW_MS} (a slow input must never strand others queued
 * behind it), and never so deep that queueing could eat a real share of the
 * function's timeout.
 */

/** Run times at or above this get no window. */
export const NO_WINDOW_MS = 100;

/** Weight of the newest sample in the moving average. */
const ALPHA = 0.2;

/** The moving average of a function's run time on this worker. */
export class RunTime {
  #mean: number | undefined;
  /** Samples so far: how many inputs finished (a pool's progress). */
  count = 0;
  /**
   * Set once an input made a nested call: such a function gets no window, as an input
   * queued behind one that waits on its own call could be that call (a deadlock).
   */
  nests = false;

  /** The mean the window follows: none for a function that nests (see `nests`). */
  get windowMeanMs(): number | undefined {
    return this.nests ? undefined : this.#mean;
  }

  /** The average so far; undefined before the first sample. */
  get mean(): number | undefined {
    return this.#mean;
  }

  /** Adds a run time in ms. */
  add(ms: number): void {
    this.count++;
    if (!(ms >= 0)) return;
    this.#mean = this.#mean === undefined ? ms : this.#mean + ALPHA * (ms - this.#mean);
  }
}

/**
 * Inputs to queue at a sandbox beyond its `concurrency`, for a function whose
 * inputs take `meanMs` on average (undefined: not measured yet, so none).
 */
export function queueWindow(concurrency: number, meanMs: number | undefined, timeoutMs: number) {
  if (meanMs === undefined || meanMs >= NO_WINDOW_MS) return 0;
  // 64 behind a function that ends in under 0.1 ms: at most 6.4 ms of waiting, and enough
  // in flight to cover a worker↔sandbox round trip on a loaded host (16 measured 30% slower).
  const perSlot = meanMs < 0.1 ? 64 : meanMs < 1 ? 4 : 1;
  // Worst wait of the last queued input: all ahead of it, run `concurrency` at a time.
  const worstWaitMs = perSlot * meanMs;
  if (worstWaitMs > timeoutMs / 10) return 0;
  return perSlot * concurrency;
}
