/**
 * How many sandboxes a function's pool keeps warm on this worker: the rule
 * behind `minContainers` and `bufferContainers`, apart from the pool's timing.
 */
import type { FunctionCache } from "./_functions.ts";
import type { FunctionDef } from "../proto/messages.ts";
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

/** Containers a function may start before the control plane has sent any allowance on a stream. */
export const UNHEARD_ALLOWANCE = 1;

/**
 * The worker's share of the cluster, as a pool reads it: how many containers
 * of a function it may run (maxContainers counts across the cluster), and
 * whether it keeps the function's minContainers warm.
 */
export interface PoolShare {
  /** Containers allowed now; `undefined` before the control plane said (see {@linkcode UNHEARD_ALLOWANCE}). */
  allowance(functionId: string): number | undefined;
  /** This worker keeps the function's minContainers warm. */
  warmDuty(functionId: string): boolean;
}

/** A pool's caps: from its definition and the worker's share of the cluster. */
export class PoolCaps {
  readonly #def: FunctionDef;
  readonly #id: string;
  readonly #share?: PoolShare;

  /** Caps of function `functionId`, under `share` (absent: its maxContainers alone). */
  constructor(def: FunctionDef, functionId: string, share?: PoolShare) {
    this.#def = def;
    this.#id = functionId;
    this.#share = share;
  }

  /** Containers the pool may start up to: maxContainers, within the worker's allowance. */
  get start(): number {
    const max = Math.max(1, this.#def.maxContainers);
    if (!this.#share) return max;
    return Math.min(max, this.#share.allowance(this.#id) ?? UNHEARD_ALLOWANCE);
  }

  /** Containers the pool keeps: idle ones above a known allowance stop at once. */
  get keep(): number {
    const allowed = this.#share?.allowance(this.#id);
    return allowed === undefined
      ? Infinity
      : Math.min(Math.max(1, this.#def.maxContainers), allowed);
  }

  /** minContainers, where this worker keeps them warm (on a cluster, the warm duty's holder only). */
  get min(): number {
    return !this.#share || this.#share.warmDuty(this.#id) ? this.#def.minContainers : 0;
  }
}

/** What {@linkcode idleToStop} weighs. */
export interface IdleRule<S> {
  /** Inputs a sandbox holds. */
  load: (sandbox: S) => number;
  nowMs: number;
  /** `scaledownWindowMs` (0 once the app is superseded). */
  windowMs: number;
  /** Sandboxes kept warm anyway (see {@linkcode warmTarget}). */
  keepWarm: number;
  /** Sandboxes kept at most: idle ones above stop whatever their idle time. */
  cap: number;
}

/** The idle sandboxes to stop now: idle past the window above the warm target, or above the cap. */
export function idleToStop<S extends { idleSinceMs: number }>(
  sandboxes: S[],
  rule: IdleRule<S>,
): S[] {
  let alive = sandboxes.length;
  const stop: S[] = [];
  for (const s of sandboxes) {
    const over = alive > rule.cap;
    if (alive <= rule.keepWarm && !over) break;
    if (rule.load(s) === 0 && (over || rule.nowMs - s.idleSinceMs >= rule.windowMs)) {
      stop.push(s);
      alive--;
    }
  }
  return stop;
}
