/**
 * When a pool with a backlog starts more sandboxes.
 *
 * - Its first sandbox starts at once, whatever the worker has free: no
 *   function waits forever behind others.
 * - More start once the oldest waiting input has waited
 *   {@linkcode SCALE_UP_AFTER_MS} (a burst the warm sandboxes clear in a
 *   moment should not start new ones), or at once when the function's measured
 *   run time says the backlog will outlast that: as many as the backlog needs, as far as
 *   `maxContainers` and the worker's free cores and memory allow. Pools are
 *   woken when room is freed, so scale-up is paced by free cores.
 * - Only waits that say something of the load count: a backlog counts from
 *   when a sandbox last joined (inputs waiting on a cold start say nothing of
 *   how fast the warm ones go), and a check that runs late (this process was
 *   busy, so no sandbox could be served) or finds less than
 *   {@linkcode MIN_BACKLOG_MS} of work per slot at the function's recent run
 *   times (a microsecond function; its wait came from a busy host) starts the
 *   count afresh instead of scaling up.
 * - A stalled pool still progresses: when its inputs wait, nothing fits, and
 *   none of its inputs has finished for {@linkcode STALL_MS} (inputs that wait
 *   on each other, like a barrier), it starts one more sandbox anyway, one at
 *   a time. Inputs that wait on nested calls need not stall: their sandboxes
 *   give their cores back while they wait (`_parking.ts`).
 */
import type { Clock, TimerHandle } from "../proto/clock.ts";
import { SCALE_UP_AFTER_MS } from "./_pool_spec.ts";

/**
 * How long a pool whose inputs wait, with no room on the worker, may go without
 * finishing an input before it starts another sandbox over its reservation.
 * Longer when the function's inputs take longer (four times their mean run time).
 */
export const STALL_MS = 2_000;

/**
 * How many times SCALE_UP_AFTER_MS of backlog one input's run time must show to start
 * sandboxes at once (it may be the function's warm-up).
 */
export const FIRST_RUN_PROOF = 10;

/** A backlog of less work than this per slot (ms, at recent run times) starts no sandbox. */
export const MIN_BACKLOG_MS = 10;

/** What the scale-up policy reads of its pool now. */
export interface ScaleUpState {
  /** Inputs waiting for a slot, and since when the oldest waits (clock ms). */
  waiting: number;
  oldestSinceMs: number | undefined;
  /** Sandboxes being started, and started (alive, or dead and not yet pruned). */
  starting: number;
  started: number;
  /** Inputs one sandbox runs at once, and how many it may hold (with its queued window). */
  concurrency: number;
  slots: number;
  /** The function's finished inputs (progress) and their mean run time. */
  runs: {
    readonly count: number;
    readonly mean: number | undefined;
    /** The shortest recent run time (see `RunTime.fastest`). */
    readonly fastest?: number;
  };
  closed: boolean;
}

/** A pool as its scale-up policy sees it. */
export interface ScaleUpPool {
  state(): ScaleUpState;
  /** Under maxContainers. */
  room(): boolean;
  /** Another sandbox's cores and memory fit in what the worker has free. */
  fits(): boolean;
  /** Starts one sandbox (reserving its share, fitting or not). */
  start(): void;
}

/** The scale-up policy of one pool, with its two timers. */
export class ScaleUp {
  readonly #clock: Clock;
  readonly #pool: ScaleUpPool;
  #backlog: TimerHandle | undefined;
  /** The armed backlog check runs at once (the backlog proved long). */
  #backlogNow = false;
  #stall: TimerHandle | undefined;
  /** Waits before this do not count. */
  #floorMs = -Infinity;

  constructor(clock: Clock, pool: ScaleUpPool) {
    this.#clock = clock;
    this.#pool = pool;
  }

  /** Waits so far no longer count (a sandbox joined, or the process was busy). */
  restart(): void {
    this.#floorMs = this.#clock.now();
  }

  /** How long the oldest input has waited, counting from the last restart. */
  #waited(s: ScaleUpState): number {
    const now = this.#clock.now();
    return now - Math.max(s.oldestSinceMs ?? now, this.#floorMs);
  }

  /** Whether the pool has inputs beyond what its starting sandboxes will take. */
  #backlogged(s: ScaleUpState): boolean {
    return !s.closed && s.waiting > s.starting * s.concurrency && this.#pool.room();
  }

  /** Starts what the pool needs now, or arms a timer to look again. */
  check(): void {
    const p = this.#pool, s = p.state();
    if (!this.#backlogged(s)) return;
    if (s.started === 0 && s.starting === 0) return p.start();
    if (s.starting > 0) return;
    if (!p.fits()) return this.#armStall(s);
    this.#cancelStall();
    const long = this.#longBacklog(s);
    // An armed check is brought forward once the backlog proves long.
    if (this.#backlog !== undefined && (this.#backlogNow || !long)) return;
    this.#cancelBacklog();
    const delayMs = long ? 0 : Math.max(0, SCALE_UP_AFTER_MS - this.#waited(s));
    const atMs = this.#clock.now() + delayMs;
    const finishedAtArm = s.runs.count;
    this.#backlogNow = long;
    this.#backlog = this.#clock.setTimeout(() => {
      this.#backlog = undefined;
      const s = p.state();
      if (s.waiting === 0 || s.starting > 0 || s.closed) return;
      if (!this.#longBacklog(s)) {
        // At the fastest recent run time, as #longBacklog: on a busy host the wall-clock mean
        // of a microsecond function counts its sandbox's waits for a core (measured 10× its
        // cost on 2 busy cores), and a first map started a second sandbox it had no use for,
        // whose start took a core from the map for ~0.3 s.
        const perInputMs = s.runs.fastest ?? s.runs.mean ?? Infinity;
        const workMs = (s.waiting * perInputMs) / (Math.max(1, s.started) * s.concurrency);
        const late = this.#clock.now() - atMs > SCALE_UP_AFTER_MS / 2;
        // Only while inputs finish: a sandbox stuck on its input (a nested call that waits
        // for a slot, a barrier) makes the estimate meaningless, and waiting would deadlock.
        const progressing = s.runs.count > finishedAtArm;
        if (progressing && (late || workMs < MIN_BACKLOG_MS)) this.restart();
        if (this.#waited(s) < SCALE_UP_AFTER_MS) return this.check();
      }
      const need = Math.max(1, Math.ceil(s.waiting / s.slots));
      for (let i = 0; i < need && p.room() && p.fits(); i++) p.start();
      if (p.state().starting === 0) this.check();
    }, delayMs);
  }

  /**
   * The backlog would keep the started sandboxes busy past SCALE_UP_AFTER_MS, even at the
   * function's fastest recent run time: this starts sandboxes before any wait, so it must not
   * mistake a slow start for a slow function (a new sandbox's first runs, a busy host). One
   * input's run time may be all warm-up (~0.3 ms for a function of microseconds, see
   * `RunTime.add`): alone, it must say ten times as much. A backlog that is long after all
   * starts sandboxes on the timer.
   */
  #longBacklog(s: ScaleUpState): boolean {
    const perSandbox = s.waiting / Math.max(1, s.started * s.concurrency);
    const ms = s.runs.fastest ?? s.runs.mean;
    const proof = s.runs.count >= 2 ? SCALE_UP_AFTER_MS : FIRST_RUN_PROOF * SCALE_UP_AFTER_MS;
    return ms !== undefined && perSandbox * ms >= proof;
  }

  #armStall(armed: ScaleUpState): void {
    if (this.#stall !== undefined) return;
    const finished = armed.runs.count;
    const ms = Math.max(STALL_MS, 4 * (armed.runs.mean ?? 0));
    this.#stall = this.#clock.setTimeout(() => {
      this.#stall = undefined;
      const s = this.#pool.state();
      const stalled = s.runs.count === finished && s.starting === 0 && this.#backlogged(s);
      if (stalled && !this.#pool.fits()) this.#pool.start();
      else this.check();
    }, ms);
  }

  #cancelStall(): void {
    if (this.#stall !== undefined) this.#clock.clearTimeout(this.#stall);
    this.#stall = undefined;
  }

  #cancelBacklog(): void {
    if (this.#backlog !== undefined) this.#clock.clearTimeout(this.#backlog);
    this.#backlog = undefined;
  }

  /** Drops the pending checks. */
  cancel(): void {
    this.#cancelBacklog();
    this.#cancelStall();
  }
}
