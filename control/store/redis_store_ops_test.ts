import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { Redis } from "../_redis_deps.ts";
import { FakeClock } from "../../proto/fake_clock.ts";
import { startRedis } from "../../tests/mod.ts";
import { connectRedisStore } from "./redis_store.ts";
import { RedisUnavailableError } from "./_redis_connection.ts";
import { settlesWithin } from "./_conformance_fixture.ts";
import type { InputRecord } from "./call_queue.ts";
import type { Store } from "./store.ts";

function inputs(callId: string, n: number): InputRecord[] {
  return Array.from({ length: n }, (_, idx) => ({
    inputId: `${callId}-${idx}`,
    callId,
    functionId: "fn",
    idx,
    args: new Uint8Array([idx % 256]),
    infraAttempt: 0,
  }));
}

function newCall(store: Store, callId: string): Promise<void> {
  return store.outputs.createCall({
    callId,
    functionId: "fn",
    appId: "app",
    createdMs: 0,
    total: null,
  });
}

async function withRedis(
  fn: (url: string, admin: Redis) => Promise<void>,
): Promise<void> {
  const server = await startRedis();
  const admin = new Redis(server.url);
  try {
    await fn(server.url, admin);
  } finally {
    await admin.quit();
    await server.stop();
  }
}

Deno.test("redis: warnings() is loud unless maxmemory-policy is noeviction", async () => {
  await withRedis(async (url, admin) => {
    const store = await connectRedisStore(url);
    try {
      await admin.config("SET", "maxmemory-policy", "allkeys-lru");
      const [warning, ...rest] = await store.warnings();
      deepStrictEqual(rest, []);
      ok(warning.includes("allkeys-lru") && warning.includes("lose"), warning);
      ok(warning.includes("CONFIG SET maxmemory-policy noeviction"), warning);
      await admin.config("SET", "maxmemory-policy", "noeviction");
      deepStrictEqual(await store.warnings(), []);
    } finally {
      await store.close();
    }
  });
});

Deno.test("redis: two backends on one Redis share inputs, outputs and wake-ups", async () => {
  await withRedis(async (url) => {
    const a = await connectRedisStore(url);
    const b = await connectRedisStore(url);
    try {
      const woken = a.queue.waitInputs({ timeoutMs: 10_000 });
      await newCall(b, "c1");
      await b.queue.enqueue(inputs("c1", 3));
      ok(await settlesWithin(woken, 2_000), "a wakes when b enqueues");
      const leases = await a.queue.lease("w1", { max: 10, leaseMs: 30_000 });
      deepStrictEqual(leases.map((l) => l.input), inputs("c1", 3));
      const outputsSeen = b.outputs.waitOutputs("c1", { cursor: 0, timeoutMs: 10_000 });
      const data = new Uint8Array([7]);
      const done = leases.map((l) => ({ ...l.input, leaseToken: l.leaseToken }));
      await a.queue.complete(done.map(({ inputId, leaseToken, idx }) => ({
        inputId,
        leaseToken,
        output: { idx, data },
      })));
      ok(await settlesWithin(outputsSeen, 2_000), "b wakes when a completes");
      equal((await b.outputs.readOutputs("c1", { cursor: 0, max: 10 })).outputs.length, 3);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("redis: queued inputs survive a restart of an appendonly Redis", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nano_modal_aof_" });
  let server = await startRedis({ appendonly: true, dir });
  const store = await connectRedisStore(server.url);
  try {
    await store.queue.enqueue(inputs("c1", 3));
    await server.stop();
    const started = performance.now();
    await rejects(store.queue.depth(), RedisUnavailableError);
    ok(performance.now() - started < 5_000, "fails fast instead of hanging");
    server = await startRedis({ appendonly: true, dir, port: server.port });
    const leases = await store.queue.lease("w1", { max: 10, leaseMs: 30_000 });
    deepStrictEqual(leases.map((l) => l.input), inputs("c1", 3));
    const admin = new Redis(server.url);
    try {
      await until(async () => (await admin.pubsub("NUMSUB", "nm:ev:in"))[1] === 1);
    } finally {
      await admin.quit();
    }
    const woken = store.queue.waitInputs({ timeoutMs: 10_000 });
    await store.queue.enqueue(inputs("c2", 1));
    ok(await settlesWithin(woken, 2_000), "wake-ups work again after the restart");
  } finally {
    await store.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("redis: enqueue, lease, complete and readOutputs cost at most 3 commands per input", async () => {
  await withRedis(async (url, admin) => {
    const store = await connectRedisStore(url);
    try {
      const n = 1000;
      await newCall(store, "c1");
      await store.outputs.createCall({
        callId: "warm",
        functionId: "fn",
        appId: "app",
        createdMs: 0,
        total: 0,
      });
      await admin.config("RESETSTAT");
      await store.queue.enqueue(inputs("c1", n));
      const leases = await store.queue.lease("w1", { max: n, leaseMs: 30_000 });
      const accepted = await store.queue.complete(leases.map((l) => ({
        inputId: l.input.inputId,
        leaseToken: l.leaseToken,
        output: { idx: l.input.idx, data: l.input.args },
      })));
      equal(accepted.filter(Boolean).length, n);
      equal((await store.outputs.readOutputs("c1", { cursor: 0, max: n })).outputs.length, n);
      const perInput = countCommands(await admin.info("commandstats")) / n;
      console.log(`Redis commands per input: ${perInput}`);
      ok(perInput <= 3, `${perInput} commands per input`);
    } finally {
      await store.close();
    }
  });
});

Deno.test("redis: a finished call's keys expire after retentionMs", async () => {
  await withRedis(async (url, admin) => {
    const store = await connectRedisStore(url, { retentionMs: 60_000 });
    try {
      await newCall(store, "c1");
      await store.queue.enqueue(inputs("c1", 2));
      const leases = await store.queue.lease("w1", { max: 2, leaseMs: 30_000 });
      const [first, second] = leases.map(({ input, leaseToken }) => ({
        inputId: input.inputId,
        leaseToken,
        output: { idx: input.idx, data: input.args },
      }));
      await store.queue.complete([first]);
      await store.outputs.setCallTotal("c1", 2);
      equal(await admin.pttl("nm:out:c1"), -1, "no expiry while outputs are missing");
      await store.queue.complete([second]);
      for (const key of ["nm:call:c1", "nm:out:c1", "nm:done:c1"]) {
        const ttl = await admin.pttl(key);
        ok(ttl > 50_000 && ttl <= 60_000, `${key} expires in ${ttl} ms`);
      }
    } finally {
      await store.close();
    }
  });
});

Deno.test("redis: close() returns promptly while Redis is down", async () => {
  const server = await startRedis();
  const store = await connectRedisStore(server.url);
  await server.kill();
  ok(await settlesWithin(store.close(), 2_000));
});

async function until(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sums `calls=` over `cmdstat_*` lines, leaving out the measuring commands themselves. */
function countCommands(info: string): number {
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) {
    if (!match[1].startsWith("info") && !match[1].startsWith("config")) total += +match[2];
  }
  return total;
}

Deno.test("redis: of several control planes on one Redis, only one sweeps expired leases", async () => {
  await withRedis(async (url) => {
    const clock = new FakeClock();
    const a = await connectRedisStore(url, { clock, keyPrefix: "s:" });
    const b = await connectRedisStore(url, { clock, keyPrefix: "s:" });
    try {
      await newCall(a, "c1");
      await a.queue.enqueue(inputs("c1", 4));
      equal((await a.queue.sweep(3)).requeued, 0); // a takes the sweeper role
      equal((await a.queue.lease("w1", { max: 4, leaseMs: 1_000 })).length, 4);
      clock.advance(5_000);
      // b may not sweep while a holds the role, even with leases expired...
      equal((await b.queue.sweep(3)).requeued, 0);
      equal((await b.queue.lease("w2", { max: 4, leaseMs: 1_000 })).length, 0);
      // ...and a, the holder, requeues them.
      equal((await a.queue.sweep(3)).requeued, 4);
      equal((await b.queue.lease("w2", { max: 4, leaseMs: 1_000 })).length, 4);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("redis: apps stopped before stop times were kept are forgotten by their creation time", async () => {
  await withRedis(async (url, admin) => {
    const clock = new FakeClock(10_000_000);
    const store = await connectRedisStore(url, { clock, retentionMs: 1_000 });
    try {
      // As an earlier version left them: in `apps` and `stopped`, with no stop time.
      const record = (id: string, createdMs: number, ephemeral: boolean) =>
        JSON.stringify({
          appId: id,
          name: id,
          ephemeral,
          createdMs,
          bundleHash: "h",
          entryUrl: "file:///a.ts",
          functionIds: { f: `fn-${id}` },
        });
      await admin.hset(
        "nm:apps",
        "old",
        record("old", 1_000, true),
        "new",
        record("new", 9_999_500, true),
      );
      await admin.hset("nm:apps", "dep", record("dep", 1_000, false));
      await admin.hset("nm:fns", "fn-old", "x", "fn-new", "x", "fn-dep", "x");
      await admin.sadd("nm:stopped", "old", "new", "dep");
      equal(await store.apps.forgetStopped(), 1);
      deepStrictEqual((await admin.hkeys("nm:apps")).sort(), ["dep", "new"]);
      deepStrictEqual((await admin.hkeys("nm:fns")).sort(), ["fn-dep", "fn-new"]);
      clock.advance(1_000);
      equal(await store.apps.forgetStopped(), 1, "created 500 ms before the cutoff moved past it");
      deepStrictEqual(await admin.hkeys("nm:apps"), ["dep"]);
      equal(
        await admin.zcard("nm:stoppedms"),
        0,
        "the deployed app left the index, its record stays",
      );
    } finally {
      await store.close();
    }
  });
});

Deno.test("redis: blobs stored before use times were kept count as used when first listed", async () => {
  await withRedis(async (url, admin) => {
    const clock = new FakeClock(10_000_000);
    const store = await connectRedisStore(url, { clock });
    try {
      // As an earlier version left it: the blob, no use time.
      await admin.hset("nm:blob:old", "n", "1", "0", "abc");
      deepStrictEqual(await store.blobs.untouchedSince(clock.now()), []);
      equal(await admin.zscore("nm:blobused", "old"), String(clock.now()));
      clock.advance(1_000);
      deepStrictEqual(await store.blobs.untouchedSince(clock.now()), ["old"]);
      equal(await store.blobs.deleteUntouched(["old"], clock.now()), 1);
      equal(await admin.exists("nm:blob:old"), 0);
    } finally {
      await store.close();
    }
  });
});

Deno.test("redis: volume chunks an earlier version kept apart are read, and move to the blob store when used again", async () => {
  await withRedis(async (url, admin) => {
    const store = await connectRedisStore(url);
    try {
      await admin.set("nm:chunk:legacy", "abc");
      deepStrictEqual(await store.volumes.getChunk("legacy"), new TextEncoder().encode("abc"));
      deepStrictEqual(await store.volumes.missingChunks(["legacy", "absent"]), ["absent"]);
      equal(await admin.exists("nm:chunk:legacy"), 0);
      equal(await store.blobs.has("legacy"), true);
      deepStrictEqual(await store.volumes.getChunk("legacy"), new TextEncoder().encode("abc"));
      await store.volumes.putChunk("absent", new Uint8Array([7]));
      deepStrictEqual(await store.volumes.missingChunks(["legacy", "absent"]), []);
      deepStrictEqual(await store.blobs.get("absent"), new Uint8Array([7]));
    } finally {
      await store.close();
    }
  });
});

Deno.test("redis: asking which of 70,000 volume chunks are missing answers (in bounded commands)", async () => {
  await withRedis(async (url) => {
    const store = await connectRedisStore(url);
    try {
      const hashes = Array.from({ length: 70_000 }, (_, i) => `h${i}`);
      await store.volumes.putChunk("h5", new Uint8Array([5]));
      const missing = await store.volumes.missingChunks(hashes);
      equal(missing.length, 69_999);
      equal(missing.includes("h5"), false);
    } finally {
      await store.close();
    }
  });
});
