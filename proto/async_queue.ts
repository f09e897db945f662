/** An unbounded async queue for RPC streams (both ends use it): producers push, one consumer iterates. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #wake?: () => void;
  #closed = false;
  #error: unknown = undefined;

  /** Adds an item (ignored after close). */
  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    this.#wake?.();
  }

  /** Ends iteration after the queued items; with `error`, iteration throws it. */
  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    this.#wake?.();
  }

  /** Whether {@linkcode AsyncQueue.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Yields items as they are pushed, until the queue is closed and drained. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    while (true) {
      if (this.#items.length > 0) {
        const items = this.#items;
        this.#items = [];
        for (const item of items) yield item;
        continue;
      }
      if (this.#closed) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((r) => this.#wake = r);
      this.#wake = undefined;
    }
  }
}
