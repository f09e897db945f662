/**
 * Leases a little ahead of a worker's credit, so that credit coming back is
 * met at once from inputs already leased to it, and the store is asked for
 * inputs in batches rather than a few at a time: on a shared store (Redis) a
 * lease is one script, whatever its size.
 *
 * How far ahead follows how fast the worker takes inputs: about
 * `AHEAD_WINDOW_MS` of them, at most `maxAhead`. A worker whose inputs are
 * slow takes few per window and gets (almost) nothing ahead, so inputs are
 * never held back from other workers for long. Inputs leased ahead are leased
 * to the worker like the rest (heartbeats renew them), and handed back to the
 * queue, with no attempt counted, when the worker drains or goes.
 * @module
 */
import type { Clock } from "../proto/clock.ts";
import type { CallQueue, Lease } from "./store/mod.ts";

/** Inputs the buffer aims to hold: what the worker takes in about this long. */
export const AHEAD_WINDOW_MS = 25;

/** Most inputs leased ahead of one worker's credit, however large its windows. */
export const MAX_AHEAD = 1024;

/** How often the take rate is re-estimated. */
const RATE_PERIOD_MS = 50;

/** What a {@linkcode LeaseAhead} needs. */
export interface LeaseAheadOptions {
  /** Lease length. */
  leaseMs: number;
  /** Time, for the take rate. */
  clock: Clock;
  /**
   * At most this many inputs ahead of credit (the worker's capacity is a good bound), or
   * as many as the worker's largest credit, when {@linkcode LeaseAhead.widen} hears of it.
   */
  maxAhead: number;
}

/** One worker stream's leases, taken from the store ahead of its credit. */
export class LeaseAhead {
  readonly #queue: CallQueue;
  readonly #workerId: string;
  readonly #options: LeaseAheadOptions;
  #buffer: Lease[] = [];
  #maxAhead: number;
  #head = 0;
  #filling: Promise<void> | null = null;
  /** Inputs taken per ms (a moving average) and the current sample. */
  #rate = 0;
  #sampleStart: number;
  #sampleTaken = 0;

  /** Leases from `queue` to `workerId`. */
  constructor(queue: CallQueue, workerId: string, options: LeaseAheadOptions) {
    this.#queue = queue;
    this.#workerId = workerId;
    this.#options = options;
    this.#sampleStart = options.clock.now();
    this.#maxAhead = options.maxAhead;
  }

  /**
   * The worker holds `credit` unused credit now: it may hold that many inputs
   * (its capacity and its sandboxes' pipelining windows), so as many may be
   * leased ahead, at most {@linkcode MAX_AHEAD}. The take rate still bounds it.
   */
  widen(credit: number): void {
    if (credit > this.#maxAhead) this.#maxAhead = Math.min(credit, MAX_AHEAD);
  }

  /** Inputs leased ahead and not yet taken. */
  get size(): number {
    return this.#buffer.length - this.#head;
  }

  /** Up to `max` leases: from those leased ahead, else from the store (plus some ahead). */
  async take(max: number): Promise<Lease[]> {
    if (this.size === 0 && this.#filling) await this.#filling;
    if (this.size === 0) await this.#fill(max + this.#ahead());
    const end = Math.min(this.#buffer.length, this.#head + max);
    const taken = this.#buffer.slice(this.#head, end);
    this.#head = end;
    if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    }
    this.#note(taken.length);
    const ahead = this.#ahead();
    if (taken.length > 0 && !this.#filling && this.size * 2 < ahead) {
      // Refill in the background; a failure shows on the next take that needs the store.
      this.#filling = this.#fill(ahead - this.size).catch(() => {}).finally(() => {
        this.#filling = null;
      });
    }
    return taken;
  }

  /** The ids of the inputs leased ahead (for renewal with the worker's own). */
  ids(): string[] {
    return this.#buffer.slice(this.#head).map((l) => l.input.inputId);
  }

  /** Drops inputs the worker no longer holds (requeued elsewhere, cancelled); returns the rest. */
  forget(inputIds: string[]): string[] {
    if (this.size === 0) return inputIds;
    const mine = new Set(this.ids());
    const gone = new Set(inputIds.filter((id) => mine.has(id)));
    if (gone.size > 0) {
      this.#buffer = this.#buffer.slice(this.#head).filter((l) => !gone.has(l.input.inputId));
      this.#head = 0;
    }
    return inputIds.filter((id) => !gone.has(id));
  }

  /**
   * Hands every input leased ahead back to the front of the queue, with no
   * attempt counted (they never reached the worker): when it drains or goes.
   */
  async giveBack(): Promise<void> {
    while (this.#filling) await this.#filling;
    const back = this.#buffer.slice(this.#head);
    this.#buffer = [];
    this.#head = 0;
    const items = back.map((l) => ({ inputId: l.input.inputId, leaseToken: l.leaseToken }));
    await this.#queue.giveBack(items);
  }

  async #fill(count: number): Promise<void> {
    if (count <= 0) return;
    const leases = await this.#queue.lease(this.#workerId, {
      max: count,
      leaseMs: this.#options.leaseMs,
    });
    for (const l of leases) this.#buffer.push(l);
  }

  #ahead(): number {
    return Math.min(this.#maxAhead, Math.floor(this.#rate * AHEAD_WINDOW_MS));
  }

  #note(taken: number): void {
    this.#sampleTaken += taken;
    const now = this.#options.clock.now();
    const elapsed = now - this.#sampleStart;
    if (elapsed < RATE_PERIOD_MS) return;
    const rate = this.#sampleTaken / elapsed;
    // Quick to rise (a burst starts), slower to fall (a pause between bursts).
    this.#rate = rate > this.#rate ? rate : this.#rate + 0.5 * (rate - this.#rate);
    this.#sampleStart = now;
    this.#sampleTaken = 0;
  }
}
