/**
 * When each running attempt times out. One timer serves every attempt: it is
 * armed for the earliest deadline and only moved when a sooner one arrives, so
 * the warm path (an attempt set and cleared within milliseconds) costs two map
 * operations and no timer.
 */
import type { Clock } from "../proto/clock.ts";
import { EarliestTimer } from "../proto/earliest_timer.ts";

interface Entry {
  atMs: number;
  expire: () => void;
}

/** Running attempts and their deadlines, on an injected clock. */
export class Deadlines {
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  /** Attempts cancelled before they had a sandbox. */
  readonly #expireOnSet = new Set<string>();
  readonly #timer: EarliestTimer;
  #stopped = false;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#timer = new EarliestTimer(clock, (nowMs) => this.#expireDue(nowMs));
  }

  /** Attempts being watched. */
  get size(): number {
    return this.#entries.size;
  }

  /** Calls `expire` once `timeoutMs` have passed, unless cleared first. */
  set(id: string, timeoutMs: number, expire: () => void): void {
    if (this.#stopped) return;
    if (this.#expireOnSet.delete(id)) {
      expire();
      return;
    }
    const atMs = this.#clock.now() + timeoutMs;
    this.#entries.set(id, { atMs, expire });
    this.#timer.armBy(atMs);
  }

  /**
   * Ends an attempt now, as if its time were up (its call was cancelled). An
   * attempt still waiting for a sandbox ends the moment it gets one.
   */
  expireNow(id: string): void {
    const entry = this.#entries.get(id);
    this.#entries.delete(id);
    if (entry) entry.expire();
    else this.#expireOnSet.add(id);
  }

  /** Forgets an attempt cancelled before it started (it will not start). */
  forget(id: string): void {
    this.#expireOnSet.delete(id);
  }

  /** Forgets an attempt that ended (its timer, if armed for it, finds nothing due). */
  clear(id: string): void {
    this.#entries.delete(id);
  }

  /** Stops watching: no deadline fires after this. */
  stop(): void {
    this.#stopped = true;
    this.#entries.clear();
    this.#timer.disarm();
  }

  /** Ends the attempts due at `nowMs`; returns the next deadline. */
  #expireDue(nowMs: number): number {
    let next = Infinity;
    for (const [id, entry] of this.#entries) {
      if (entry.atMs <= nowMs) {
        this.#entries.delete(id);
        entry.expire();
      } else if (entry.atMs < next) next = entry.atMs;
    }
    return next;
  }
}
