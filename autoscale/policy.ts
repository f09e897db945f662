/**
 * The autoscaler's decisions, with no I/O: given what the control plane
 * reports and the workers the driver runs, how many to start and which to
 * drain. Time comes from an injected {@linkcode Clock}, so a backlog curve is
 * tested with fake time.
 * @module
 */
import type { Clock } from "../proto/clock.ts";

/** The bounds and thresholds of the loop. */
export interface ScalePolicy {
  /** Fewest workers the driver keeps. */
  min: number;
  /** Most workers the driver runs. */
  max: number;
  /** Waiting inputs per live worker tolerated before starting more. @default 0 */
  targetBacklog: number;
  /** A worker holding nothing for this long is drained. */
  idleMs: number;
  /** Inputs a new worker takes, until live workers report their own. */
  workerCapacity: number;
}

/** A worker as the control plane reports it. */
export interface WorkerLoad {
  /** The id the worker chose. */
  workerId: string;
  /** Where it runs (a container's name for container drivers). */
  hostname: string;
  /** Inputs it takes at once. */
  capacity: number;
  /** Inputs it holds now. */
  busy: number;
}

/** One of the driver's workers; `worker` is unset while it has not registered yet. */
export interface UnitLoad {
  /** The driver's id of the unit. */
  id: string;
  /** Its worker in the stats, once registered. */
  worker?: WorkerLoad;
}

/** What one tick sees. */
export interface Snapshot {
  /** Inputs waiting for a worker, over all functions. */
  queued: number;
  /** The driver's workers (not those draining). */
  units: UnitLoad[];
  /** Live workers the driver does not run (a fixed worker, an embedded one). */
  others: WorkerLoad[];
}

/** What to do: start `start` workers, drain the units in `stop`; `reason` is for the log. */
export interface Decision {
  /** Workers before the change. */
  from: number;
  /** Workers after it. */
  to: number;
  /** Workers to start. */
  start: number;
  /** Units to drain. */
  stop: string[];
  /** Why, for the log line. */
  reason: string;
}

/**
 * Decides scale changes, remembering since when each worker has been idle.
 *
 * @example
 * ```ts
 * import { Decider } from "./policy.ts";
 * import { FakeClock } from "../proto/fake_clock.ts";
 * const decider = new Decider(
 *   { min: 1, max: 4, targetBacklog: 0, idleMs: 30_000, workerCapacity: 4 },
 *   new FakeClock(),
 * );
 * const busy = { workerId: "w1", hostname: "h", capacity: 4, busy: 4 };
 * const d = decider.decide({ queued: 12, units: [{ id: "u1", worker: busy }], others: [] });
 * console.log(d?.start); // 3
 * ```
 */
export class Decider {
  readonly #policy: ScalePolicy;
  readonly #clock: Clock;
  readonly #idleSince = new Map<string, number>();

  /**
   * A decider with no idle history.
   * @param policy the bounds and thresholds
   * @param clock time for idle tracking
   */
  constructor(policy: ScalePolicy, clock: Clock) {
    if (policy.min < 0 || policy.max < policy.min) {
      throw new RangeError(`--min ${policy.min} and --max ${policy.max}: need 0 <= min <= max`);
    }
    this.#policy = policy;
    this.#clock = clock;
  }

  /** The change this snapshot calls for, or `undefined` to keep things as they are. */
  decide(snap: Snapshot): Decision | undefined {
    const { min, max, targetBacklog, idleMs } = this.#policy;
    const now = this.#clock.now();
    const n = snap.units.length;
    this.#trackIdle(snap.units, now);
    if (n < min) return { from: n, to: min, start: min - n, stop: [], reason: "below --min" };
    if (n > max) {
      const stop = this.#leastUseful(snap.units).slice(0, n - max);
      return { from: n, to: max, start: 0, stop, reason: "above --max" };
    }

    const live = [...snap.units.flatMap((u) => u.worker ? [u.worker] : []), ...snap.others];
    const starting = snap.units.filter((u) => !u.worker).length;
    const capacity = live.length
      ? Math.max(1, Math.round(live.reduce((s, w) => s + w.capacity, 0) / live.length))
      : this.#policy.workerCapacity;
    // Waiting inputs that neither free slots, workers on their way, nor the tolerated backlog absorb.
    const free = live.reduce((s, w) => s + Math.max(0, w.capacity - w.busy), 0) +
      starting * capacity;
    const excess = snap.queued - free - targetBacklog * Math.max(1, live.length + starting);
    if (excess > 0 && n < max) {
      const add = Math.min(max - n, Math.ceil(excess / capacity));
      return {
        from: n,
        to: n + add,
        start: add,
        stop: [],
        reason:
          `backlog: ${snap.queued} inputs waiting, ${free} free slots, target ${targetBacklog}` +
          ` per worker over ${live.length + starting} workers`,
      };
    }
    if (snap.queued > 0 || n <= min) return undefined;

    const idle = snap.units
      .filter((u) => now - (this.#idleSince.get(u.id) ?? now) >= idleMs)
      .sort((a, b) => this.#idleSince.get(a.id)! - this.#idleSince.get(b.id)!);
    const stop = idle.slice(0, n - min).map((u) => u.id);
    if (stop.length === 0) return undefined;
    for (const id of stop) this.#idleSince.delete(id);
    return {
      from: n,
      to: n - stop.length,
      start: 0,
      stop,
      reason: `${stop.length} worker${stop.length > 1 ? "s" : ""} idle for ${
        Math.round(idleMs / 100) / 10
      } s or more`,
    };
  }

  #trackIdle(units: UnitLoad[], now: number): void {
    const seen = new Set<string>();
    for (const u of units) {
      seen.add(u.id);
      if (u.worker && u.worker.busy === 0) {
        if (!this.#idleSince.has(u.id)) this.#idleSince.set(u.id, now);
      } else this.#idleSince.delete(u.id);
    }
    for (const id of this.#idleSince.keys()) if (!seen.has(id)) this.#idleSince.delete(id);
  }

  /** Units to remove first when over --max: not yet registered, then the longest idle, then any. */
  #leastUseful(units: UnitLoad[]): string[] {
    const rank = (u: UnitLoad) =>
      !u.worker ? -Infinity : u.worker.busy === 0 ? (this.#idleSince.get(u.id) ?? 0) : Infinity;
    return [...units].sort((a, b) => rank(a) - rank(b)).map((u) => u.id);
  }
}
