/**
 * Group commit of one work stream's results: at most one store write is in
 * flight, and results that arrive meanwhile go out together in the next one.
 * A shared store (Redis) then pays one script per burst of results instead of
 * one per message, and the stream keeps reading while a write is in flight.
 * @module
 */
import type { WorkResult } from "../proto/messages.ts";
import type { Completion, Store } from "./store/mod.ts";
import { failExhausted } from "./_outputs.ts";

/** What a {@linkcode ResultBatcher} reports to its stream. */
export interface ResultBatcherOptions {
  /** Infrastructure attempts before an input fails. */
  maxInfra: number;
  /** `count` more results are stored (in the order they were added). */
  onStored: (count: number) => void;
  /** Inputs handed back because their sandbox died were requeued. */
  onRequeued: (count: number) => void;
  /** A write failed: the stream must end with this error. */
  onError: (error: unknown) => void;
}

/** Stores a stream's results in order, batching what arrives during a write. */
export class ResultBatcher {
  readonly #store: Store;
  readonly #options: ResultBatcherOptions;
  #pending: WorkResult[] = [];
  #running: Promise<void> | null = null;
  #failed = false;

  /** Writes to `store`'s queue. */
  constructor(store: Store, options: ResultBatcherOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** Queues results for the next write. */
  add(results: WorkResult[]): void {
    if (this.#failed || results.length === 0) return;
    for (const r of results) this.#pending.push(r);
    this.#running ??= this.#run();
  }

  /** Resolves once every result added so far is stored (or a write failed). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #run(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        await this.#write(batch);
        this.#options.onStored(batch.length);
      }
    } catch (error) {
      this.#failed = true;
      this.#pending = [];
      this.#options.onError(error);
    } finally {
      this.#running = null;
    }
  }

  async #write(batch: WorkResult[]): Promise<void> {
    const done: Completion[] = [];
    const again: { inputId: string; leaseToken: string }[] = [];
    for (const res of batch) {
      if (res.requeue) again.push({ inputId: res.inputId, leaseToken: res.leaseToken });
      else if (res.output.length) {
        done.push({
          inputId: res.inputId,
          leaseToken: res.leaseToken,
          output: { idx: res.idx, data: res.output },
        });
      }
    }
    if (done.length) await this.#store.queue.complete(done);
    if (again.length) {
      const report = await this.#store.queue.requeue(again, this.#options.maxInfra);
      this.#options.onRequeued(again.length);
      await failExhausted(this.#store, report.exhausted, this.#options.maxInfra);
    }
  }
}
