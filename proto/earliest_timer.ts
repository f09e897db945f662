/**
 * One timer for many deadlines: armed for the earliest and moved only when a
 * sooner one arrives, so a deadline set and cleared within milliseconds (the
 * warm path's) costs no timer of its own. Its owner keeps the deadlines: when
 * the timer fires, `due(nowMs)` ends those that are due and returns the next
 * one (`Infinity`: none), for which the timer arms again.
 * @module
 */
import type { Clock, TimerHandle } from "./clock.ts";

/** The longest delay a timer takes without overflowing (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer armed for the earliest of its owner's deadlines. */
export class EarliestTimer {
  readonly #clock: Clock;
  readonly #due: (nowMs: number) => number;
  #timer?: TimerHandle;
  #armedAtMs = Infinity;

  /** A timer on `clock`; `due` ends what is due at `nowMs` and returns the next deadline. */
  constructor(clock: Clock, due: (nowMs: number) => number) {
    this.#clock = clock;
    this.#due = due;
  }

  /** Makes sure the timer fires by `atMs` (a sooner arming stays). */
  armBy(atMs: number): void {
    if (atMs < this.#armedAtMs) this.#arm(atMs);
  }

  /** Stops the timer; it fires no more until armed again. */
  disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAtMs = Infinity;
  }

  /** The armed timer (to ref or unref it), if one is armed. */
  get handle(): TimerHandle | undefined {
    return this.#timer;
  }

  #arm(atMs: number): void {
    this.disarm();
    this.#armedAtMs = atMs;
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(0, atMs - this.#clock.now()));
    this.#timer = this.#clock.setTimeout(() => this.#fire(), delayMs);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAtMs = Infinity;
    const next = this.#due(this.#clock.now());
    // What `due` ended may have armed for a sooner deadline already.
    if (next < this.#armedAtMs) this.#arm(next);
  }
}
