/**
 * {@linkcode BlobStore} in Redis, so every control plane on one Redis reaches
 * every blob with no shared filesystem. A blob is a hash `P blob:<hash>` of
 * chunks (fields `0`, `1`, ..., at most {@linkcode CHUNK_BYTES} each) and
 * `n`, their count, so no Redis value nears its 512 MB limit and no command
 * carries a whole large blob. A writer fills a temporary key (which expires
 * if the writer dies) and publishes it with one script, so readers see the
 * whole blob or none. Blobs are limited to {@linkcode MAX_BLOB_BYTES}.
 * @module
 */
import type { BlobStore } from "./blob_store.ts";
import type { RedisContext } from "./_redis_context.ts";
import { script } from "./_redis_lua.ts";
import * as codec from "./_redis_codec.ts";

/** The size of a chunk. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
/** The largest blob the Redis store accepts (documented in the README). */
export const MAX_BLOB_BYTES = 512 * 1024 * 1024;
/** How long an unpublished upload may take before its chunks expire. */
const UPLOAD_TTL_MS = 3_600_000;

/**
 * Publishes a finished upload under its content hash.
 * KEYS: 1 upload (temporary), 2 blob.
 * ARGV: none.
 * Result: 1 if published, 0 if the upload is gone (expired).
 */
const publishBlob = script(
  2,
  `
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
redis.call("RENAME", KEYS[1], KEYS[2])
redis.call("PERSIST", KEYS[2])
return 1
`,
);

/** Blobs in Redis, reachable from every control plane on it. */
export class RedisBlobStore implements BlobStore {
  readonly maxBytes: number = MAX_BLOB_BYTES;
  #ctx: RedisContext;

  /** Defines its script on the context's connection. */
  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
    ctx.define({ nmPublishBlob: publishBlob });
  }

  async put(hash: string, data: Uint8Array): Promise<void> {
    if (data.byteLength > this.maxBytes) {
      throw new RangeError(
        `Blob of ${data.byteLength} bytes is larger than the Redis store's limit of ${this.maxBytes}`,
      );
    }
    if (await this.has(hash)) return;
    const upload = this.#ctx.key("upload:", `${hash}:${crypto.randomUUID()}`);
    const chunks = Math.ceil(data.byteLength / CHUNK_BYTES);
    await this.#ctx.run(async (r) => {
      // One chunk per command keeps each command small; the pipeline keeps it one round trip.
      const pipeline = r.pipeline();
      pipeline.hset(upload, "n", chunks);
      for (let i = 0; i < chunks; i++) {
        const part = data.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES);
        pipeline.hset(upload, String(i), codec.toBuffer(part));
      }
      pipeline.pexpire(upload, UPLOAD_TTL_MS);
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (failed) throw failed[0];
    });
    const published = await this.#ctx.script<number>("nmPublishBlob", upload, this.#key(hash));
    if (published !== 1) throw new Error(`Upload of blob ${hash} expired before it finished`);
  }

  has(hash: string): Promise<boolean> {
    return this.#ctx.run(async (r) => (await r.exists(this.#key(hash))) === 1);
  }

  get(hash: string): Promise<Uint8Array | undefined> {
    return this.#ctx.run(async (r) => {
      const key = this.#key(hash);
      const n = await r.hget(key, "n");
      if (n === null) return undefined;
      const fields = Array.from({ length: Number(n) }, (_, i) => String(i));
      const parts = fields.length ? await r.hmgetBuffer(key, ...fields) : [];
      const size = parts.reduce((sum, p) => sum + (p?.byteLength ?? 0), 0);
      const out = new Uint8Array(size);
      let at = 0;
      for (const part of parts) {
        if (!part) throw new Error(`Blob ${hash} in Redis is missing a chunk`);
        out.set(part, at);
        at += part.byteLength;
      }
      return out;
    });
  }

  #key(hash: string): string {
    return this.#ctx.key("blob:", hash);
  }
}
