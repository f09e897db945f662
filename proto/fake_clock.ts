/**
 * A hand-driven {@linkcode Clock} for tests: time moves only when a test says
 * so, and the timers that fall due fire in order. Test support, never used in
 * production code.
 * @module
 */
import { type Clock, clockSleep, type TimerHandle } from "./clock.ts";

interface Timer {
  id: number;
  dueMs: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to.
 *
 * @example
 * ```ts
 * import { FakeClock } from "./fake_clock.ts";
 * const clock = new FakeClock(1_000);
 * let fired = false;
 * clock.setTimeout(() => fired = true, 500);
 * await clock.tick(500);
 * console.log(clock.now(), fired); // 1500 true
 * ```
 */
export class FakeClock implements Clock {
  #nowMs: number;
  #timers: Timer[] = [];
  #nextId = 1;

  /** @param startMs the first reading. @default 1_700_000_000_000 */
  constructor(startMs = 1_700_000_000_000) {
    this.#nowMs = startMs;
  }

  /** The current fake time in milliseconds. */
  now(): number {
    return this.#nowMs;
  }

  /** Starts a fake timer that fires when time reaches now + `ms`. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.push({ id, dueMs: this.#nowMs + Math.max(0, ms), fn });
    return id as TimerHandle;
  }

  /** Cancels a fake timer. */
  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Resolves once fake time has moved `ms` forward. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return clockSleep(this, ms, { signal });
  }

  /** Number of timers not yet fired. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order (synchronously).
   * Prefer {@linkcode FakeClock.tick} when the code under test awaits between timers.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`Cannot move a clock backwards (by ${ms} ms)`);
    const target = this.#nowMs + ms;
    for (let t = this.#nextDue(target); t; t = this.#nextDue(target)) {
      this.#nowMs = Math.max(this.#nowMs, t.dueMs);
      this.#timers = this.#timers.filter((x) => x !== t);
      t.fn();
    }
    this.#nowMs = target;
  }

  /**
   * Moves time forward by `ms` in steps, letting promises settle after each
   * timer fires, so chains of `await clock.sleep()` run as they would in real time.
   */
  async tick(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`Cannot move a clock backwards (by ${ms} ms)`);
    const target = this.#nowMs + ms;
    await settle();
    for (let t = this.#nextDue(target); t; t = this.#nextDue(target)) {
      this.#nowMs = Math.max(this.#nowMs, t.dueMs);
      this.#timers = this.#timers.filter((x) => x !== t);
      t.fn();
      await settle();
    }
    this.#nowMs = target;
    await settle();
  }

  #nextDue(limitMs: number): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers) {
      if (t.dueMs <= limitMs && (!best || t.dueMs < best.dueMs)) best = t;
    }
    return best;
  }
}

async function settle(): Promise<void> {
  // A macrotask turn lets every pending microtask (and chained awaits) run.
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
}
