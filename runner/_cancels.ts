/**
 * The cancels of the inputs a worker runs. A call's cancel must end its
 * input's retry backoff, yet almost no input ever waits in one: the
 * AbortController (an EventTarget, the costliest object an input made) is
 * built only when a backoff asks for its signal.
 * @module
 */

interface Entry {
  cancelled: boolean;
  controller?: AbortController;
}

/** Inputs running on a worker, and whether their calls were cancelled. */
export class Cancels {
  readonly #entries = new Map<string, Entry>();

  /** `inputId` starts running. */
  add(inputId: string): void {
    this.#entries.set(inputId, { cancelled: false });
  }

  /** `inputId` ended. */
  delete(inputId: string): void {
    this.#entries.delete(inputId);
  }

  /** Cancels `inputId` if it runs (its backoff, if any, ends); returns whether it ran. */
  cancel(inputId: string): boolean {
    const e = this.#entries.get(inputId);
    if (!e) return false;
    e.cancelled = true;
    e.controller?.abort();
    return true;
  }

  /** A signal that aborts when `stopped` does or `inputId` is cancelled (already, or later). */
  signal(inputId: string, stopped: AbortSignal): AbortSignal {
    const e = this.#entries.get(inputId);
    if (!e) return stopped;
    e.controller ??= new AbortController();
    if (e.cancelled) e.controller.abort();
    return AbortSignal.any([stopped, e.controller.signal]);
  }
}
