/**
 * One pool's claim on its worker's cores and memory: each of its sandboxes
 * reserves the function's `cpu` and `memoryMiB` (see `_resources.ts`).
 * Without a worker-wide {@linkcode Resources}, everything fits.
 *
 * A sandbox whose every running input waits on nested calls is parked (see
 * `_parking.ts`): it gives its share back while it waits, so the calls it
 * waits on can get sandboxes, and takes it again when one returns, fitting or
 * not (nothing else is stopped to make room; later starts wait instead).
 */
import type { Resources } from "./_resources.ts";

/** What one sandbox of a function reserves. */
export interface SandboxNeeds {
  /** Cores. */
  cpu: number;
  /** Memory in MiB. */
  memoryMib: number;
}

/** Reserves and gives back one sandbox's share at a time. */
export class Reservation {
  readonly #resources: Resources | undefined;
  readonly #needs: SandboxNeeds;
  readonly #unsubscribe: () => void;
  /** Sandboxes whose share is given back while they wait on nested calls. */
  readonly #parked = new Set<object>();

  /** `onFreed` runs when any pool of the worker gives room back. */
  constructor(resources: Resources | undefined, options: SandboxNeeds & { onFreed: () => void }) {
    this.#resources = resources;
    this.#needs = { cpu: options.cpu, memoryMib: options.memoryMib };
    this.#unsubscribe = resources?.onFreed(options.onFreed) ?? (() => {});
  }

  /** Another sandbox's share fits in what the worker has free. */
  fits(): boolean {
    return this.#resources?.fits(this.#needs.cpu, this.#needs.memoryMib) ?? true;
  }

  /** Reserves one sandbox's share, fitting or not (callers checked, or must start anyway). */
  take(): void {
    this.#resources?.reserve(this.#needs.cpu, this.#needs.memoryMib, true);
  }

  /** Gives one sandbox's share back (none if `sandbox` is parked: it gave it already). */
  give(sandbox?: object): void {
    if (sandbox && this.#parked.delete(sandbox)) return;
    this.#resources?.release(this.#needs.cpu, this.#needs.memoryMib);
  }

  /** `sandbox` waits on nested calls only: its share goes back until it runs again. */
  park(sandbox: object): void {
    if (this.#parked.has(sandbox)) return;
    this.#parked.add(sandbox);
    this.#resources?.release(this.#needs.cpu, this.#needs.memoryMib);
  }

  /** `sandbox` runs again: it takes its share back, even over what the worker has. */
  unpark(sandbox: object): void {
    if (this.#parked.delete(sandbox)) this.take();
  }

  /** Stops listening for freed room. */
  close(): void {
    this.#unsubscribe();
  }
}
