/** A set of waiters woken together, on the injected clock. */
import type { Clock } from "../../proto/clock.ts";

/** Waiters woken together; each wait ends on wake, timeout or abort. */
export class WakeSet {
  #clock: Clock;
  #waiters = new Set<() => void>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Resolves on the next {@linkcode wakeAll}, after `timeoutMs`, or on abort. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = this.#clock.setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      this.#waiters.add(done);
    });
  }

  /** Wakes every current waiter. */
  wakeAll(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** How many are waiting. */
  get size(): number {
    return this.#waiters.size;
  }
}
