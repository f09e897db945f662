/**
 * When a pool with a backlog starts more sandboxes: not at once (a burst that
 * the warm sandboxes clear in a moment should not start new ones), but once
 * the oldest waiting input has waited {@linkcode SCALE_UP_AFTER_MS}.
 */
import type { Clock, TimerHandle } from "../proto/clock.ts";
import { SCALE_UP_AFTER_MS } from "./_pool_spec.ts";

/** One pending scale-up check at a time. */
export class ScaleUpTimer {
  readonly #clock: Clock;
  #timer: TimerHandle | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** A check is pending. */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** Whether an input waiting since `sinceMs` has waited long enough to scale up for. */
  due(sinceMs: number): boolean {
    return this.#clock.now() - sinceMs >= SCALE_UP_AFTER_MS;
  }

  /** Runs `check` once an input waiting since `sinceMs` has waited long enough. */
  arm(sinceMs: number, check: () => void): void {
    const waited = this.#clock.now() - sinceMs;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      check();
    }, Math.max(0, SCALE_UP_AFTER_MS - waited));
  }

  /** Drops the pending check. */
  cancel(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
