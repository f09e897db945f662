/** The inputs a pool holds while they wait for a sandbox slot, oldest first. */
import type { WarmSandbox } from "./_warm_sandbox.ts";

/** One input waiting for a slot, since when. */
export interface Waiter extends PromiseWithResolvers<WarmSandbox> {
  /** When it started waiting (clock milliseconds). */
  sinceMs: number;
}

/** A FIFO with O(1) shift: a head index, compacted once most of the array is spent. */
export class WaiterQueue {
  #items: Waiter[] = [];
  #head = 0;

  /** How many wait. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Adds a waiter at the back. */
  push(waiter: Waiter): void {
    this.#items.push(waiter);
  }

  /** The oldest waiter, if any. */
  oldest(): Waiter | undefined {
    return this.#items[this.#head];
  }

  /** Removes and returns the oldest waiter. */
  shift(): Waiter | undefined {
    if (this.size === 0) return undefined;
    const waiter = this.#items[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return waiter;
  }

  /** Hands what `take` gives to the waiters, oldest first, until either runs out. */
  serve(take: () => WarmSandbox | undefined): void {
    while (this.size > 0) {
      const free = take();
      if (!free) break;
      this.shift()!.resolve(free);
    }
  }

  /** Removes and returns every waiter past the first `from`. */
  takeFrom(from = 0): Waiter[] {
    const taken = this.#items.slice(this.#head + from);
    this.#items.length = this.#head + from;
    return taken;
  }
}
