/**
 * {@linkcode BlobStore} in this process's memory.
 * @module
 */
import type { BlobStore } from "./blob_store.ts";
import { type Clock, systemClock } from "../../proto/clock.ts";

/** Blobs in memory. */
export class MemoryBlobStore implements BlobStore {
  readonly maxBytes: number = 1024 * 1024 * 1024;
  #blobs = new Map<string, { data: Uint8Array; usedMs: number }>();
  #clock: Clock;

  /** Notes uses by `clock`. */
  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  put(hash: string, data: Uint8Array): Promise<void> {
    if (data.byteLength > this.maxBytes) {
      return Promise.reject(new RangeError(`Blob of ${data.byteLength} bytes is too large`));
    }
    const kept = this.#blobs.get(hash);
    if (kept) kept.usedMs = this.#clock.now();
    else this.#blobs.set(hash, { data: data.slice(), usedMs: this.#clock.now() });
    return Promise.resolve();
  }

  has(hash: string): Promise<boolean> {
    const kept = this.#blobs.get(hash);
    if (kept) kept.usedMs = this.#clock.now();
    return Promise.resolve(kept !== undefined);
  }

  get(hash: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#blobs.get(hash)?.data);
  }

  untouchedSince(beforeMs: number): Promise<string[]> {
    const old = [...this.#blobs].filter(([, b]) => b.usedMs < beforeMs).map(([hash]) => hash);
    return Promise.resolve(old);
  }

  deleteUntouched(hashes: string[], beforeMs: number): Promise<number> {
    let deleted = 0;
    for (const hash of hashes) {
      const kept = this.#blobs.get(hash);
      if (kept && kept.usedMs < beforeMs && this.#blobs.delete(hash)) deleted++;
    }
    return Promise.resolve(deleted);
  }
}
