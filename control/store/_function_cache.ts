/**
 * Function records kept once read. A record never changes under its id (each
 * `putApp` mints new function ids; rollbacks and redeploys too), and is
 * deleted only with a run's app a retention period after it stopped, so a
 * copy stays true, on any control plane: a warm call
 * then asks the store for its app alone (the embedded store spent ~20 µs of
 * each call's ~290 on the lookup; Redis, a round trip). Bounded: the oldest
 * entries go first. Callers must not change a record they are given.
 */
import type { FunctionRecord } from "./app_store.ts";

/** Entries kept at most. */
export const MAX_FUNCTIONS = 10_000;

/** Function records by id, the latest {@linkcode MAX_FUNCTIONS}. */
export class FunctionCache {
  readonly #byId = new Map<string, FunctionRecord>();
  readonly #max: number;

  constructor(max = MAX_FUNCTIONS) {
    this.#max = max;
  }

  /** The record of `functionId`, if kept. */
  get(functionId: string): FunctionRecord | undefined {
    return this.#byId.get(functionId);
  }

  /** Keeps `record` (and returns it). */
  keep(record: FunctionRecord): FunctionRecord {
    if (!this.#byId.has(record.functionId) && this.#byId.size >= this.#max) {
      this.#byId.delete(this.#byId.keys().next().value!);
    }
    this.#byId.set(record.functionId, record);
    return record;
  }

  /** Records kept now. */
  get size(): number {
    return this.#byId.size;
  }
}
