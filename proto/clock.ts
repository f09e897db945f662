/**
 * Time, injected. Everything with leases, heartbeats, timeouts, backoff or
 * scale-down takes a {@linkcode Clock} instead of reading `Date.now()` or
 * calling `setTimeout` itself, so its tests run with fake time
 * ({@linkcode FakeClock} in `fake_clock.ts`) in milliseconds of real time.
 * @module
 */

/** An opaque handle of a timer started by {@linkcode Clock.setTimeout}. */
export type TimerHandle = { readonly __timer: unique symbol } | number;

/** A source of time and timers. */
export interface Clock {
  /**
   * Milliseconds since the epoch: wall-clock time at the process's start,
   * advanced monotonically (steps of the machine's clock do not move it).
   */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds, unless cleared first. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; a no-op for one that already fired. */
  clearTimeout(handle: TimerHandle): void;
  /** Resolves after `ms` milliseconds, or rejects with the signal's reason once it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Resolves after `ms` on `clock`, or rejects with the signal's reason once it aborts. */
function sleepOn(clock: Clock, ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The real clock.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 * await systemClock.sleep(1);
 * console.log(systemClock.now() > 0); // true
 * ```
 */
export const systemClock: Clock = {
  // The process's start in wall-clock time plus a monotonic count since: close to Date.now(),
  // but a step of the machine's clock (seen on these VMs) cannot fire every deadline at once.
  now: () => Math.round(performance.timeOrigin + performance.now()),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as number),
  sleep(ms, signal) {
    return sleepOn(systemClock, ms, { signal });
  },
};

/** Shared by clocks that implement only timers: `sleep` built on `setTimeout`. */
export { sleepOn as clockSleep };
