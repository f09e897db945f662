/**
 * {@linkcode BlobStore} in Redis, so every control plane on one Redis reaches
 * every blob with no shared filesystem. A blob is a hash `P blob:<hash>` of
 * chunks (fields `0`, `1`, ..., at most {@linkcode CHUNK_BYTES} each) and
 * `n`, their count, so no Redis value nears its 512 MB limit and no command
 * carries a whole large blob. A writer fills a temporary key (which expires
 * if the writer dies) and publishes it with one script, so readers see the
 * whole blob or none. Blobs are limited to {@linkcode MAX_BLOB_BYTES}. When
 * each was last stored or asked for is in the `P blobused` zset.
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
 * KEYS: 1 upload (temporary), 2 blob, 3 use times.
 * ARGV: 1 hash, 2 nowMs.
 * Result: 1 if published, 0 if the upload is gone (expired).
 */
const publishBlob = script(
  3,
  `
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
redis.call("RENAME", KEYS[1], KEYS[2])
redis.call("PERSIST", KEYS[2])
redis.call("ZADD", KEYS[3], ARGV[2], ARGV[1])
return 1
`,
);

/**
 * Notes a use of each of some blobs that exist.
 * KEYS: 1 use times.
 * ARGV: 1 key prefix, 2 nowMs, then hashes.
 * Result: the hashes of those that do not exist.
 */
const touchBlobs = script(
  1,
  `
local missing = {}
for i = 3, #ARGV do
  if redis.call("EXISTS", ARGV[1] .. "blob:" .. ARGV[i]) == 1 then
    redis.call("ZADD", KEYS[1], ARGV[2], ARGV[i])
  else
    missing[#missing + 1] = ARGV[i]
  end
end
return missing
`,
);

/**
 * Deletes blobs unused since a time (checked here, atomically with the delete).
 * KEYS: 1 use times.
 * ARGV: 1 key prefix, 2 cutoff ms, then hashes.
 * Result: how many were deleted.
 */
const deleteUntouched = script(
  1,
  `
local deleted = 0
for i = 3, #ARGV do
  local used = redis.call("ZSCORE", KEYS[1], ARGV[i])
  if used and tonumber(used) < tonumber(ARGV[2]) then
    deleted = deleted + redis.call("DEL", ARGV[1] .. "blob:" .. ARGV[i])
    redis.call("ZREM", KEYS[1], ARGV[i])
  end
end
return deleted
`,
);

/** Blobs in Redis, reachable from every control plane on it. */
export class RedisBlobStore implements BlobStore {
  readonly maxBytes: number = MAX_BLOB_BYTES;
  #ctx: RedisContext;
  /** Whether this process has dated the blobs that had no use time. */
  #dated = false;

  /** Defines its scripts on the context's connection. */
  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
    ctx.define({
      nmPublishBlob: publishBlob,
      nmTouchBlobs: touchBlobs,
      nmDeleteUntouched: deleteUntouched,
    });
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
    const published = await this.#ctx.script<number>(
      "nmPublishBlob",
      ...[upload, this.#key(hash), this.#ctx.keys.blobUsed],
      ...[hash, this.#ctx.clock.now()],
    );
    if (published !== 1) throw new Error(`Upload of blob ${hash} expired before it finished`);
  }

  async has(hash: string): Promise<boolean> {
    return (await this.missing([hash])).length === 0;
  }

  /** Of `hashes`, those not stored; the others count as used, like {@linkcode has}. */
  async missing(hashes: string[]): Promise<string[]> {
    const { blobUsed, prefix } = this.#ctx.keys;
    const now = this.#ctx.clock.now();
    const missing: string[] = [];
    for (let i = 0; i < hashes.length; i += 1000) {
      missing.push(
        ...await this.#ctx.script<string[]>(
          "nmTouchBlobs",
          ...[blobUsed, prefix, now],
          ...hashes.slice(i, i + 1000),
        ),
      );
    }
    return missing;
  }

  async untouchedSince(beforeMs: number): Promise<string[]> {
    const { blobUsed, prefix } = this.#ctx.keys;
    if (!this.#dated) {
      // Blobs stored before use times were kept: their countdown starts now.
      const now = this.#ctx.clock.now();
      await this.#ctx.run(async (r) => {
        let cursor = "0";
        do {
          const [next, keys] = await r.scan(cursor, "MATCH", `${prefix}blob:*`, "COUNT", 1000);
          cursor = next;
          const hashes = keys.map((k) => k.slice(prefix.length + "blob:".length));
          if (hashes.length) await r.zadd(blobUsed, "NX", ...hashes.flatMap((h) => [now, h]));
        } while (cursor !== "0");
      });
      this.#dated = true;
    }
    return await this.#ctx.run((r) => r.zrangebyscore(blobUsed, "-inf", `(${beforeMs}`));
  }

  async deleteUntouched(hashes: string[], beforeMs: number): Promise<number> {
    let deleted = 0;
    const { blobUsed, prefix } = this.#ctx.keys;
    // Bounded runs keep Redis responsive.
    for (let i = 0; i < hashes.length; i += 1000) {
      deleted += await this.#ctx.script<number>(
        "nmDeleteUntouched",
        ...[blobUsed, prefix, beforeMs],
        ...hashes.slice(i, i + 1000),
      );
    }
    return deleted;
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
