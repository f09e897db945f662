/**
 * One pool's claim on its worker's cores and memory: each of its sandboxes
 * reserves the function's `cpu` and `memoryMiB` (see `_resources.ts`).
 * Without a worker-wide {@linkcode Resources}, everything fits.
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

  /** Gives one sandbox's share back. */
  give(): void {
    this.#resources?.release(this.#needs.cpu, this.#needs.memoryMib);
  }

  /** Stops listening for freed room. */
  close(): void {
    this.#unsubscribe();
  }
}
