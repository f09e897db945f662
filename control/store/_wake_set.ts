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
import { type Clock, systemClock, type TimerHandle } from "../../proto/clock.ts";

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
  #clock: Clock;
  #dues = new Set<Due>();
  #timer: TimerHandle | undefined;
  #armedMs = Infinity;
  /** Keep the timer (unref'd) when no one waits: real timers only. */
  #keep: boolean;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#keep = clock === systemClock;
  }

  /** Calls `fire` once `ms` have passed, unless deleted first. */
  add(ms: number, fire: () => void): Due {
    const due = { atMs: this.#clock.now() + Math.max(0, ms), fire };
    this.#dues.add(due);
    if (due.atMs < this.#armedMs) this.#arm(due.atMs);
    else if (this.#keep && this.#dues.size === 1) Deno.refTimer(this.#timer as number);
    return due;
  }

  /** Forgets a deadline; the timer stays armed (a timer that finds nothing due re-arms). */
  delete(due: Due): void {
    if (!this.#dues.delete(due) || this.#dues.size) return;
    if (this.#keep && this.#timer !== undefined) Deno.unrefTimer(this.#timer as number);
    else this.#disarm();
  }

  #arm(atMs: number): void {
    this.#disarm();
    this.#armedMs = atMs;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), atMs - this.#clock.now());
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedMs = Infinity;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedMs = Infinity;
    const now = this.#clock.now();
    for (const due of this.#dues) {
      if (due.atMs > now) continue;
      this.#dues.delete(due);
      due.fire();
    }
    let next = Infinity;
    for (const due of this.#dues) next = Math.min(next, due.atMs);
    if (next < this.#armedMs) this.#arm(next);
  }
}
