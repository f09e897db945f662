/**
 * A hand-driven {@linkcode Clock} for tests of leases, heartbeats and retention.
 * @module
 */
import type { Clock } from "./backend.ts";

/**
 * A clock that moves only when told to, so lease expiry is tested without sleeping.
 *
 * @example
 * ```ts
 * import { FakeClock } from "./_fake_clock.ts";
 * const clock = new FakeClock(1_000);
 * clock.advance(500);
 * console.log(clock.now()); // 1500
 * ```
 */
export class FakeClock implements Clock {
  #nowMs: number;

  /** @param startMs the first reading. @default 1_700_000_000_000 */
  constructor(startMs = 1_700_000_000_000) {
    this.#nowMs = startMs;
  }

  /** The current fake time in milliseconds. */
  now(): number {
    return this.#nowMs;
  }

  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`Cannot move a clock backwards (by ${ms} ms)`);
    this.#nowMs += ms;
  }
}
