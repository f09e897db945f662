/** A set of waiters woken together; each wait ends on wake, timeout or abort. */
export class WakeSet {
  #waiters = new Set<() => void>();

  /** Resolves on the next {@linkcode wakeAll}, after `timeoutMs`, or on abort. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      this.#waiters.add(done);
    });
  }

  /** Wakes every current waiter. */
  wakeAll(): void {
    for (const w of [...this.#waiters]) w();
  }

  get size(): number {
    return this.#waiters.size;
  }
}
