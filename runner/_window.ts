/**
 * Pipelined dispatch: how many inputs beyond `concurrency` the worker keeps
 * queued at a sandbox, so a function that finishes in microseconds is not
 * held to one worker↔sandbox round trip per input. The sandbox still runs at
 * most `concurrency` at once; the queued ones start there in order.
 *
 * The window follows the function's recent run time (a moving average of what
 * the sandbox reports): about {@linkcode QUEUE_BUDGET_MS} of work per slot for
 * functions under 0.1 ms (hundreds of inputs for one that ends in microseconds:
 * the worker↔server loop, over Redis too, then always has inputs on the way
 * while the sandbox works through those it holds), a few per slot up to 1 ms, one input per slot for
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

/** Work queued per slot behind a function under 0.1 ms, in ms of its measured run time. */
export const QUEUE_BUDGET_MS = 5;

/** Most inputs queued per slot (a function whose run time rounds to nothing). */
export const MAX_PER_SLOT = 512;

/**
 * Argument bytes queued per slot at most: queued inputs wait in the sandbox's memory (and the
 * worker's), so a microsecond function of megabyte arguments gets a few, not hundreds.
 */
export const QUEUE_BYTES = 8 * 1024 * 1024;

/** Weight of the newest sample in the moving average. */
const ALPHA = 0.2;

/** Recent run times kept for {@linkcode RunTime.fastest}. */
const RECENT = 8;

/** The moving average of a function's run time on this worker. */
export class RunTime {
  #mean: number | undefined;
  /** Valid samples so far (`count` counts every finished input). */
  #samples = 0;
  /** The last {@linkcode RECENT} samples, in a ring. */
  readonly #recent = new Float64Array(RECENT);
  #bytes = 0;
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

  /**
   * The shortest of the last few run times; undefined before the first. What an input costs
   * when nothing slows it: on a busy host a wall-clock run time also counts the time the
   * sandbox waited for a core, and a microsecond function's first runs in a new sandbox
   * (its code not yet compiled) take a millisecond each.
   */
  get fastest(): number | undefined {
    const n = Math.min(this.#samples, RECENT);
    if (n === 0) return undefined;
    let min = Infinity;
    for (let i = 0; i < n; i++) min = Math.min(min, this.#recent[i]);
    return min;
  }

  /** The average so far; undefined before the first sample. */
  get mean(): number | undefined {
    return this.#mean;
  }

  /** The average size of the arguments of recent inputs, in bytes. */
  get meanBytes(): number {
    return this.#bytes;
  }

  /** Adds an input's argument size, as it arrives. */
  addSize(bytes: number): void {
    this.#bytes = this.#bytes === 0 ? bytes : this.#bytes + ALPHA * (bytes - this.#bytes);
  }

  /**
   * Inputs to queue at a sandbox of `def` beyond its `concurrency`, at these averages. A web
   * endpoint gets none, however fast its requests: a request may stream its body either way for
   * as long as its client likes, and any request queued behind it would wait that long.
   */
  window(concurrency: number, def: { timeoutMs: number; web?: unknown }): number {
    if (def.web) return 0;
    return queueWindow(concurrency, {
      meanMs: this.windowMeanMs,
      timeoutMs: def.timeoutMs,
      meanBytes: this.#bytes,
    });
  }

  /**
   * Adds a run time in ms. The first is the mean only until the second
   * replaces it: a function's first run pays its warm-up (compiling, lazy
   * imports), ~0.3 ms for one that then takes microseconds, and averaged in it
   * outweighed the real figure for dozens of inputs (a microsecond function's
   * first map started a second sandbox it had no use for).
   */
  add(ms: number): void {
    this.count++;
    if (!(ms >= 0)) return;
    this.#recent[this.#samples % RECENT] = ms;
    this.#samples++;
    if (this.#samples <= 2) this.#mean = ms;
    else this.#mean = this.#mean! + ALPHA * (ms - this.#mean!);
  }
}

/** What {@linkcode queueWindow} weighs. */
export interface WindowInputs {
  /** The function's mean run time (undefined: not measured yet, so no window). */
  meanMs: number | undefined;
  /** Its timeout: queueing may not eat a tenth of it. */
  timeoutMs: number;
  /** The mean size of its arguments (0: unknown). @default 0 */
  meanBytes?: number;
}

/** Inputs to queue at a sandbox beyond its `concurrency`. */
export function queueWindow(concurrency: number, w: WindowInputs): number {
  const { meanMs, timeoutMs, meanBytes = 0 } = w;
  if (meanMs === undefined || meanMs >= NO_WINDOW_MS) return 0;
  // Under 0.1 ms: about QUEUE_BUDGET_MS of work queued per slot, so the inputs in flight cover
  // the worker↔server↔store loop (64 per slot: 20k trivial inputs at 7k/s through Redis, 16k/s
  // embedded; 512: 15k/s and 21k/s). A queued input waits at most that long for its turn.
  const byTime = meanMs < 0.1
    ? Math.min(MAX_PER_SLOT, Math.max(1, Math.floor(QUEUE_BUDGET_MS / meanMs)))
    : meanMs < 1
    ? 4
    : 1;
  const perSlot = Math.max(1, Math.min(byTime, Math.floor(QUEUE_BYTES / Math.max(1, meanBytes))));
  // Worst wait of the last queued input: all ahead of it, run `concurrency` at a time.
  const worstWaitMs = perSlot * meanMs;
  if (worstWaitMs > timeoutMs / 10) return 0;
  return perSlot * concurrency;
}
