/**
 * What one worker stream holds right now (input id -> function id), for the
 * worker's record: `busy` for the autoscaler and `status`, and per-function
 * `running` counts. The record is rewritten when what it holds changes, at
 * most once per `everyMs`, so a busy stream costs one store write a second.
 * @module
 */
import type { Clock, TimerHandle } from "../proto/clock.ts";

/** The load part of a worker's record. */
export interface HeldLoad {
  busy: number;
  /** Function id -> inputs held. */
  running: Record<string, number>;
}

/** Inputs a worker stream holds, reported through `report` after each change. */
export class HeldInputs {
  readonly #held = new Map<string, string>();
  /** Inputs held per function, kept as they change: read before every assignment. */
  readonly #running = new Map<string, number>();
  readonly #clock: Clock;
  readonly #report: () => void;
  readonly #everyMs: number;
  #timer?: TimerHandle;
  #closed = false;

  /** `report` rewrites the worker's record; it is called at most once per `everyMs`. */
  constructor(clock: Clock, report: () => void, everyMs = 1_000) {
    this.#clock = clock;
    this.#report = report;
    this.#everyMs = everyMs;
  }

  /** Inputs leased to the worker. */
  add(inputs: { inputId: string; functionId: string }[]): void {
    for (const i of inputs) {
      this.#count(this.#held.get(i.inputId), -1);
      this.#held.set(i.inputId, i.functionId);
      this.#count(i.functionId, 1);
    }
    this.#changed();
  }

  /** Inputs the worker finished or handed back. */
  remove(inputIds: string[]): void {
    this.take(inputIds);
  }

  /**
   * Removes inputs like {@linkcode remove} and returns the function each was held for, in
   * order (undefined: not held): one map lookup per input on the path of every result.
   */
  take(inputIds: string[]): (string | undefined)[] {
    const functions = new Array<string | undefined>(inputIds.length);
    for (let i = 0; i < inputIds.length; i++) {
      const id = inputIds[i];
      const functionId = this.#held.get(id);
      functions[i] = functionId;
      if (functionId === undefined) continue;
      this.#count(functionId, -1);
      this.#held.delete(id);
    }
    this.#changed();
    return functions;
  }

  #count(functionId: string | undefined, delta: number): void {
    if (functionId === undefined) return;
    const n = (this.#running.get(functionId) ?? 0) + delta;
    if (n > 0) this.#running.set(functionId, n);
    else this.#running.delete(functionId);
  }

  /** The load to put in the worker's record. */
  load(): HeldLoad {
    return { busy: this.#held.size, running: Object.fromEntries(this.#running) };
  }

  /** Stops reporting (the stream ended). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
  }

  #changed(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) this.#report();
    }, this.#everyMs);
  }
}
