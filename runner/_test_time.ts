/**
 * Test support for fake time next to real I/O: a {@linkcode FakeClock} that
 * remembers which timers were asked for, and {@linkcode until}, which waits
 * (in real time, briefly) for real sockets to deliver before time moves on.
 * Never used in production code.
 */
import type { TimerHandle } from "../proto/clock.ts";
import { FakeClock } from "../proto/fake_clock.ts";

/** A fake clock that records the delay of every timer started on it. */
export class WatchedClock extends FakeClock {
  /** Delays of the timers started so far, in order. */
  readonly requested: number[] = [];

  override setTimeout(fn: () => void, ms: number): TimerHandle {
    this.requested.push(ms);
    return super.setTimeout(fn, ms);
  }

  /** Resolves once a timer of `ms` has been started (counting from `since` in `requested`). */
  timerStarted(ms: number, since = 0): Promise<void> {
    return until(() => this.requested.indexOf(ms, since) >= 0, `a ${ms} ms timer`);
  }
}

/** Waits until `ready()` holds, checking every millisecond of real time; fails after 5 s. */
export async function until(ready: () => boolean, what = "a condition"): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!ready()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}
