/**
 * {@linkcode BlobStore} in this process's memory.
 * @module
 */
import type { BlobStore } from "./blob_store.ts";

/** Blobs in memory. */
export class MemoryBlobStore implements BlobStore {
  readonly maxBytes: number = 1024 * 1024 * 1024;
  #blobs = new Map<string, Uint8Array>();

  put(hash: string, data: Uint8Array): Promise<void> {
    if (data.byteLength > this.maxBytes) {
      return Promise.reject(new RangeError(`Blob of ${data.byteLength} bytes is too large`));
    }
    this.#blobs.set(hash, data.slice());
    return Promise.resolve();
  }

  has(hash: string): Promise<boolean> {
    return Promise.resolve(this.#blobs.has(hash));
  }

  get(hash: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#blobs.get(hash));
  }
}
