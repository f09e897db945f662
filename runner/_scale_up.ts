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
  runs: { readonly count: number; readonly mean: number | undefined };
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

  constructor(clock: Clock, pool: ScaleUpPool) {
    this.#clock = clock;
    this.#pool = pool;
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
    const now = this.#clock.now();
    const waited = long ? SCALE_UP_AFTER_MS : now - (s.oldestSinceMs ?? now);
    this.#backlogNow = long;
    this.#backlog = this.#clock.setTimeout(() => {
      this.#backlog = undefined;
      const s = p.state();
      if (s.waiting === 0 || s.starting > 0 || s.closed) return;
      const waited = this.#clock.now() - (s.oldestSinceMs ?? 0);
      if (waited < SCALE_UP_AFTER_MS && !this.#longBacklog(s)) return this.check();
      const need = Math.max(1, Math.ceil(s.waiting / s.slots));
      for (let i = 0; i < need && p.room() && p.fits(); i++) p.start();
      if (p.state().starting === 0) this.check();
    }, Math.max(0, SCALE_UP_AFTER_MS - waited));
  }

  /** The backlog would keep the started sandboxes busy past SCALE_UP_AFTER_MS (mean known). */
  #longBacklog(s: ScaleUpState): boolean {
    const perSandbox = s.waiting / Math.max(1, s.started * s.concurrency);
    return s.runs.mean !== undefined && perSandbox * s.runs.mean >= SCALE_UP_AFTER_MS;
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
