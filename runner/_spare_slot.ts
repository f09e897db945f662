/**
 * The one spare sandbox a runner has on its way or waiting (the deno
 * runner's process, `_spare.ts`; the docker runner's container,
 * `docker/_spare.ts`): who keeps one, the next one started a while after one
 * is taken, and its end. What a spare is and how it starts is the runner's.
 */
import type { SpareOptions } from "./runner.ts";

/**
 * How long after a kept spare is taken the next one may start, and how often it looks again
 * while its keeper is busy: not at once, so that its start does not compete for the CPU with
 * the sandbox just adopted; soon after a burst of work ends, so that the next app finds it
 * ready (every half second, a run started just after a short one often found none).
 */
export const SPARE_REFILL_MS = 150;

/**
 * Longest a refill waits for its keeper to stop being busy (`SpareOptions.busy`): a new app
 * during a long burst of work then still finds a spare.
 */
export const MAX_REFILL_WAIT_MS = 10_000;

/** A runner's spare: `start` sets one on its way (through {@linkcode SpareSlot.fill}). */
export class SpareSlot<T> {
  #pending?: Promise<T | undefined>;
  #keep?: SpareOptions;
  #keepers = 0;
  #refill?: ReturnType<typeof setTimeout>;
  readonly #start: (options: SpareOptions) => void;
  readonly #kill: (spare: T) => Promise<void>;

  /** A slot whose spares `start` starts and `kill` stops. */
  constructor(start: (options: SpareOptions) => void, kill: (spare: T) => Promise<void>) {
    this.#start = start;
    this.#kill = kill;
  }

  /** Whether a spare is on its way or waiting. */
  get filled(): boolean {
    return this.#pending !== undefined;
  }

  /** Sets a spare on its way. */
  fill(spare: Promise<T | undefined>): void {
    this.#pending = spare;
  }

  /**
   * Takes the spare, if any: it is then the caller's to adopt, {@linkcode putBack} or kill.
   * Taken before waiting for it, so that of sandboxes starting at once only one has it.
   */
  take(): Promise<T | undefined> | undefined {
    const pending = this.#pending;
    this.#pending = undefined;
    return pending;
  }

  /** Returns a spare that did not fit, if one is kept and none has replaced it; else false. */
  putBack(spare: Promise<T | undefined>): boolean {
    if (this.#keepers === 0 || this.#pending) return false;
    this.#pending = spare;
    return true;
  }

  /**
   * Keeps a spare ready from now on: one starts now, and another
   * {@linkcode SPARE_REFILL_MS} after each is taken. Returns the function
   * that stops keeping it (the spare stops once no caller keeps one).
   */
  keep(options: SpareOptions): () => Promise<void> {
    this.#keep = options;
    this.#keepers++;
    this.#start(options);
    let kept = true;
    return async () => {
      if (!kept) return;
      kept = false;
      if (--this.#keepers === 0) await this.drop();
    };
  }

  /**
   * Starts another spare a while after one was taken, while one is kept: once the keeper is
   * not busy, or after {@linkcode MAX_REFILL_WAIT_MS} anyway.
   */
  refillLater(): void {
    if (this.#keepers === 0 || this.#refill) return;
    const due = Date.now() + MAX_REFILL_WAIT_MS;
    const arm = () => {
      this.#refill = setTimeout(() => {
        this.#refill = undefined;
        if (this.#keepers === 0 || !this.#keep) return;
        if (this.#keep.busy?.() && Date.now() < due) return arm();
        this.#start(this.#keep);
      }, SPARE_REFILL_MS);
      Deno.unrefTimer(this.#refill);
    };
    arm();
  }

  /** Stops the spare if no sandbox took it, and any refill. */
  async drop(): Promise<void> {
    clearTimeout(this.#refill);
    this.#refill = undefined;
    const spare = await this.take();
    if (spare) await this.#kill(spare);
  }
}
