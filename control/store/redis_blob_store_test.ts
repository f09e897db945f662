import { deepStrictEqual, equal, rejects } from "node:assert/strict";
import { Redis } from "../_redis_deps.ts";
import { startRedis } from "../../tests/mod.ts";
import { connectRedisStore } from "./redis_store.ts";
import { CHUNK_BYTES, MAX_BLOB_BYTES } from "./redis_blob_store.ts";

Deno.test("redis: a blob put through one control plane is read whole through another, in chunks", async () => {
  const server = await startRedis();
  const a = await connectRedisStore(server.url);
  const b = await connectRedisStore(server.url);
  const admin = new Redis(server.url);
  try {
    const big = new Uint8Array(2 * CHUNK_BYTES + 12_345).map((_, i) => (i * 7) % 256);
    await a.blobs.put("big", big);
    deepStrictEqual(await b.blobs.get("big"), big);
    equal(await admin.hget("nm:blob:big", "n"), "3", "three chunks");
    equal((await admin.keys("nm:upload:*")).length, 0, "no upload left behind");
    equal(await admin.pttl("nm:blob:big"), -1, "a published blob never expires");
  } finally {
    admin.disconnect();
    await a.close();
    await b.close();
    await server.stop();
  }
});

Deno.test("redis: a blob over the documented limit is refused with a RangeError", async () => {
  const server = await startRedis();
  const store = await connectRedisStore(server.url);
  try {
    equal(store.blobs.maxBytes, MAX_BLOB_BYTES);
    const huge = Object.defineProperty(new Uint8Array(1), "byteLength", {
      value: MAX_BLOB_BYTES + 1,
    });
    await rejects(store.blobs.put("huge", huge), RangeError);
    equal(await store.blobs.has("huge"), false);
  } finally {
    await store.close();
    await server.stop();
  }
});
