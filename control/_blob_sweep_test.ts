import { deepStrictEqual, equal } from "node:assert/strict";
import { create, toBinary } from "../proto/deps.ts";
import { FunctionDefSchema } from "../proto/messages.ts";
import { FakeClock } from "../proto/fake_clock.ts";
import { openEmbeddedStore } from "./store/embedded_store.ts";
import { connectRedisStore } from "./store/redis_store.ts";
import type { Store } from "./store/mod.ts";
import { startRedis } from "../tests/mod.ts";
import { sha256Hex } from "../proto/content_hash.ts";
import { serviceFixture, testFunctionDef } from "./_service_fixture.ts";
import { BLOB_GRACE_MS, sweepBlobs } from "./_blob_sweep.ts";

const LIMITS = { maxBytes: 1 << 20, maxFiles: 100 };

async function sweepsOnlyUnreferenced(store: Store, clock: FakeClock): Promise<void> {
  const bytes = new Uint8Array([1]);
  const blobs = ["bundle", "img-file", "img-dir", "chunk", "old-chunk", "orphan", "run-bundle"];
  for (const hash of blobs) {
    if (hash.includes("chunk")) await store.volumes.putChunk(hash, bytes);
    else await store.blobs.put(hash, bytes);
  }
  const def = create(FunctionDefSchema, {
    name: "f",
    image: {
      layers: [
        { layer: { case: "base", value: "deno" } },
        { layer: { case: "file", value: { remotePath: "/a", hash: "img-file", mode: 0o644 } } },
        {
          layer: {
            case: "dir",
            value: { remotePath: "/d", files: [{ path: "x", hash: "img-dir", mode: 0o644 }] },
          },
        },
      ],
    },
  });
  const base = { name: "demo", stopped: false, createdMs: 0, entryUrl: "file:///a.ts" };
  await store.apps.putApp(
    { ...base, appId: "dep", ephemeral: false, bundleHash: "bundle", functionIds: { f: "fu-1" } },
    [{ functionId: "fu-1", appId: "dep", name: "f", def: toBinary(FunctionDefSchema, def) }],
  );
  await store.apps.putApp(
    { ...base, appId: "run", ephemeral: true, bundleHash: "run-bundle", functionIds: {} },
    [],
  );
  await store.volumes.createVolume("v", 0);
  const file = (chunk: string) => ({ path: "/f", size: 1, chunks: [chunk], mtimeMs: 0 });
  await store.volumes.commit("v", [{ path: "/f", file: file("old-chunk") }], LIMITS);
  await store.volumes.commit("v", [{ path: "/f", file: file("chunk") }], LIMITS);

  clock.advance(BLOB_GRACE_MS);
  equal(await sweepBlobs(store, clock.now()), 0, "unused for exactly the grace period: kept");
  clock.advance(1);
  // Asked for just now (as a client does before CreateApp): it stays.
  await store.blobs.has("orphan");
  equal(await sweepBlobs(store, clock.now()), 1);
  equal(await store.blobs.has("old-chunk"), false, "the overwritten file's content went");
  for (const kept of ["bundle", "img-file", "img-dir", "chunk", "orphan", "run-bundle"]) {
    equal(await store.blobs.has(kept), true, kept);
  }
  deepStrictEqual(await store.volumes.getChunk("chunk"), bytes);

  // A run's app is forgotten a retention period after it stops; then its bundle can go.
  await store.apps.stopApp("run");
  clock.advance(BLOB_GRACE_MS + 1_001);
  await store.apps.forgetStopped();
  equal(await sweepBlobs(store, clock.now()), 2, "the run's bundle and the orphan");
  equal(await store.blobs.has("run-bundle"), false);
  equal(await store.blobs.has("orphan"), false);
  equal(await store.blobs.has("bundle"), true);
}

Deno.test("the blob sweep deletes only blobs no app, image or volume file refers to, after the grace period", async () => {
  const dataDir = await Deno.makeTempDir();
  const clock = new FakeClock();
  const store = await openEmbeddedStore({ dataDir, clock, retentionMs: 1_000 });
  try {
    await sweepsOnlyUnreferenced(store, clock);
  } finally {
    await store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the blob sweep does the same on Redis, where volume chunks are blobs too", async () => {
  const redis = await startRedis();
  const clock = new FakeClock();
  const store = await connectRedisStore(redis.url, { clock, retentionMs: 1_000 });
  try {
    await sweepsOnlyUnreferenced(store, clock);
  } finally {
    await store.close();
    await redis.stop();
  }
});

Deno.test("CreateApp lists its images' files on the app, and the sweep keeps them by that list", async () => {
  const f = await serviceFixture();
  try {
    const put = async (text: string) => {
      const data = new TextEncoder().encode(text);
      const hash = await sha256Hex(data);
      await f.control.putBundle({ hash, data });
      return hash;
    };
    const [bundle, file, dirFile] = await Promise.all([put("export {};"), put("a"), put("b")]);
    const image = {
      layers: [
        { layer: { case: "base" as const, value: "deno" } },
        { layer: { case: "file" as const, value: { remotePath: "/a", hash: file, mode: 0o644 } } },
        {
          layer: {
            case: "dir" as const,
            value: { remotePath: "/d", files: [{ path: "b", hash: dirFile, mode: 0o644 }] },
          },
        },
      ],
    };
    const fn = (name: string) => testFunctionDef(name, { image });
    const { appId } = await f.control.createApp({
      name: "imaged",
      bundleHash: bundle,
      ephemeral: true,
      functions: [fn("one"), fn("two")],
    });
    const app = await f.store.apps.getApp(appId);
    deepStrictEqual(app?.imageFiles?.sort(), [file, dirFile].sort());
    // Kept by the list alone: its functions' records are not read.
    const orphan = await put("orphan");
    const defs = f.store.apps.getFunction.bind(f.store.apps);
    const listed = new Set(Object.values(app!.functionIds));
    f.store.apps.getFunction = (id) =>
      listed.has(id) ? Promise.reject(new Error("read a listed app's function")) : defs(id);
    try {
      f.clock.advance(BLOB_GRACE_MS + 1);
      equal(await sweepBlobs(f.store, f.clock.now()), 1);
    } finally {
      f.store.apps.getFunction = defs;
    }
    equal(await f.store.blobs.has(orphan), false);
    for (const kept of [bundle, file, dirFile]) equal(await f.store.blobs.has(kept), true);
  } finally {
    await f.close();
  }
});
