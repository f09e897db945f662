/**
 * {@linkcode BlobStore} in Redis: `P blob:<hash>` holds the bytes.
 * @module
 */
import type { BlobStore } from "./blob_store.ts";
import type { RedisContext } from "./_redis_context.ts";
import * as codec from "./_redis_codec.ts";

/** Blobs in Redis, reachable from every control plane on it. */
export class RedisBlobStore implements BlobStore {
  readonly maxBytes: number = 256 * 1024 * 1024;
  #ctx: RedisContext;

  /** Uses the context's connection. */
  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
  }

  put(hash: string, data: Uint8Array): Promise<void> {
    if (data.byteLength > this.maxBytes) {
      return Promise.reject(new RangeError(`Blob of ${data.byteLength} bytes is too large`));
    }
    return this.#ctx.run(async (r) =>
      void await r.set(this.#ctx.key("blob:", hash), codec.toBuffer(data))
    );
  }

  has(hash: string): Promise<boolean> {
    return this.#ctx.run(async (r) => (await r.exists(this.#ctx.key("blob:", hash))) === 1);
  }

  get(hash: string): Promise<Uint8Array | undefined> {
    return this.#ctx.run(async (r) => {
      const data = await r.getBuffer(this.#ctx.key("blob:", hash));
      return data ? codec.toBytes(data) : undefined;
    });
  }
}
