/**
 * A set of waiters woken together, on the injected clock.
 *
 * Every wait has a timeout, but waits almost always end by a wake long before
 * it: a warm call waits twice (for its input, for its output), and a clock
 * timer made and cleared per wait cost ~8 µs of the control plane's time per
 * call. So the waits of all sets on one clock share one timer, armed for the
 * earliest deadline; a wait that ends only leaves the list. On the system
 * clock the timer stays armed when no one waits, unref'd so that it holds
 * no process open, and is ref'd again by the next wait: one warm call after
 * another then makes no timer at all.
 */
import { type Clock, systemClock } from "../../proto/clock.ts";
import { EarliestTimer } from "../../proto/earliest_timer.ts";

/** Waiters woken together; each wait ends on wake, timeout or abort. */
export class WakeSet {
  #deadlines: Deadlines;
  #waiters = new Set<() => void>();

  constructor(clock: Clock) {
    this.#deadlines = deadlinesOf(clock);
  }

  /** Resolves on the next {@linkcode wakeAll}, after `timeoutMs`, or on abort. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#deadlines.delete(due);
        signal?.removeEventListener("abort", done);
        this.#waiters.delete(done);
        resolve();
      };
      const due = this.#deadlines.add(timeoutMs, done);
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

interface Due {
  atMs: number;
  fire: () => void;
}

const byClock = new WeakMap<Clock, Deadlines>();

function deadlinesOf(clock: Clock): Deadlines {
  let deadlines = byClock.get(clock);
  if (!deadlines) byClock.set(clock, deadlines = new Deadlines(clock));
  return deadlines;
}

/**
 * Deadlines on one clock, with one timer armed for the earliest. With no
 * deadlines left the timer is cleared, or on the system clock unref'd.
 */
class Deadlines {
  #dues = new Set<Due>();
  readonly #clock: Clock;
  readonly #timer: EarliestTimer;
  /** Keep the timer (unref'd) when no one waits: real timers only. */
  #keep: boolean;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#keep = clock === systemClock;
    this.#timer = new EarliestTimer(clock, (nowMs) => this.#fireDue(nowMs));
  }

  /** Calls `fire` once `ms` have passed, unless deleted first. */
  add(ms: number, fire: () => void): Due {
    const due = { atMs: this.#clock.now() + Math.max(0, ms), fire };
    this.#dues.add(due);
    const kept = this.#timer.handle;
    this.#timer.armBy(due.atMs);
    // The first wait after an idle spell takes the kept (unref'd) timer back.
    if (this.#keep && kept !== undefined && kept === this.#timer.handle && this.#dues.size === 1) {
      Deno.refTimer(kept as number);
    }
    return due;
  }

  /** Forgets a deadline; the timer stays armed (a timer that finds nothing due re-arms). */
  delete(due: Due): void {
    if (!this.#dues.delete(due) || this.#dues.size) return;
    const armed = this.#timer.handle;
    if (this.#keep && armed !== undefined) Deno.unrefTimer(armed as number);
    else this.#timer.disarm();
  }

  /** Fires the deadlines due at `nowMs`; returns the next one. */
  #fireDue(nowMs: number): number {
    for (const due of this.#dues) {
      if (due.atMs > nowMs) continue;
      this.#dues.delete(due);
      due.fire();
    }
    let next = Infinity;
    for (const due of this.#dues) next = Math.min(next, due.atMs);
    return next;
  }
}
