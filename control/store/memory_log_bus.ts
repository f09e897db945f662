/**
 * {@linkcode LogBus} within this process.
 * @module
 */
import type { LogBus, LogListener } from "./log_bus.ts";

/** Log fan-out to listeners in this process. */
export class MemoryLogBus implements LogBus {
  #listeners = new Map<string, Set<LogListener>>();
  #seqs = new Map<string, number>();

  publish(appId: string, data: Uint8Array): Promise<number> {
    const seq = (this.#seqs.get(appId) ?? 0) + 1;
    this.#seqs.set(appId, seq);
    for (const fn of [...this.#listeners.get(appId) ?? []]) fn(data, seq);
    return Promise.resolve(seq);
  }

  subscribe(appId: string, listener: LogListener): Promise<() => void> {
    let subs = this.#listeners.get(appId);
    if (!subs) this.#listeners.set(appId, subs = new Set());
    subs.add(listener);
    return Promise.resolve(() => {
      subs.delete(listener);
      if (subs.size === 0 && this.#listeners.get(appId) === subs) this.#listeners.delete(appId);
    });
  }

  seq(appId: string): Promise<number> {
    return Promise.resolve(this.#seqs.get(appId) ?? 0);
  }
}
