import { deepStrictEqual, equal } from "node:assert/strict";
import { FakeClock } from "../../proto/fake_clock.ts";
import {
  CALL_OVERHEAD_BYTES,
  DEFAULT_RETAINED_OUTPUT_BYTES,
  MemoryOutputStore,
  OUTPUT_OVERHEAD_BYTES,
} from "./memory_output_store.ts";

const out = (idx: number, bytes = 10) => ({ idx, data: new Uint8Array(bytes) });

async function call(store: MemoryOutputStore, callId: string, total: number | null) {
  await store.createCall({ callId, functionId: "fn", appId: "ap", createdMs: 0, total });
}

Deno.test("release() drops delivered outputs at once; later reads skip past them", async () => {
  const store = new MemoryOutputStore(new FakeClock(), { retentionMs: 60_000 });
  await call(store, "m", null);
  for (let i = 0; i < 5; i++) store.record("m", out(i));
  const held = store.heldBytes;
  await store.release("m", 3);
  equal(store.heldBytes, held * 2 / 5, "three of five outputs freed");
  const page = await store.readOutputs("m", { cursor: 0, max: 10 });
  deepStrictEqual(page.outputs.map((o) => o.idx), [3, 4]);
  equal(page.cursor, 5, "the cursor moves past the released outputs");
  deepStrictEqual(
    (await store.readOutputs("m", { cursor: 4, max: 10 })).outputs.map((o) => o.idx),
    [4],
  );
  equal(store.record("m", out(1)), false, "a released index is still refused");
  await store.release("m", 5);
  equal(store.heldBytes, 0);
  store.record("m", out(5));
  await store.waitOutputs("m", { cursor: 5, timeoutMs: 1 }); // resolves: output 5 is past cursor 5
  deepStrictEqual(
    (await store.readOutputs("m", { cursor: 5, max: 10 })).outputs.map((o) => o.idx),
    [5],
  );
});

Deno.test("a finished call refuses further outputs and keeps no per-index set", async () => {
  const store = new MemoryOutputStore(new FakeClock(), { retentionMs: 60_000 });
  await call(store, "m", null);
  store.record("m", out(0));
  store.record("m", out(1));
  await store.setCallTotal("m", 2);
  equal(store.record("m", out(0)), false);
  equal(store.record("m", out(2)), false);
  equal((await store.readOutputs("m", { cursor: 0, max: 10 })).outputs.length, 2);
});

Deno.test("over the byte budget, the oldest finished calls are forgotten first", async () => {
  const clock = new FakeClock();
  // Room for four call records and about three 1,000-byte outputs.
  const budgetBytes = 4 * CALL_OVERHEAD_BYTES + 3 * (1000 + OUTPUT_OVERHEAD_BYTES) + 100;
  const store = new MemoryOutputStore(clock, { retentionMs: 60_000, budgetBytes });
  await call(store, "running-map", null); // oldest, but unfinished: never evicted
  store.record("running-map", out(0, 1000));
  for (const id of ["a", "b", "c"]) {
    clock.advance(10);
    await call(store, id, 1);
    store.record(id, out(0, 1000));
  }
  equal(await store.getCall("a"), undefined, "the oldest finished call went first");
  equal((await store.getCall("b"))?.callId, "b");
  equal((await store.getCall("c"))?.callId, "c");
  equal((await store.getCall("running-map"))?.callId, "running-map");
  equal((await store.readOutputs("running-map", { cursor: 0, max: 1 })).outputs.length, 1);
  equal(store.budgetedBytes <= budgetBytes, true);
  equal(store.wasEvicted("a"), true, "a fetch of it can say it was evicted");
  equal(store.wasEvicted("b"), false);
  equal(store.wasEvicted("never-made"), false);
  equal(store.evictedCalls, 1);
});

Deno.test("forgetting idle calls frees their bytes", async () => {
  const clock = new FakeClock();
  const store = new MemoryOutputStore(clock, { retentionMs: 1_000 });
  await call(store, "s", 1);
  store.record("s", out(0, 100));
  clock.advance(1_001);
  equal(await store.forgetIdle(), 1);
  equal(store.heldBytes, 0);
});

Deno.test("finished calls' records count against the budget and go oldest first", async () => {
  const clock = new FakeClock();
  const budgetBytes = 100 * CALL_OVERHEAD_BYTES;
  const store = new MemoryOutputStore(clock, { retentionMs: 3_600_000, budgetBytes });
  // A thousand maps of one output each, all delivered: only their records are left.
  for (let i = 0; i < 1000; i++) {
    clock.advance(1);
    await call(store, `m${i}`, 1);
    store.record(`m${i}`, out(0, 1));
    await store.release(`m${i}`, 1);
  }
  equal(store.heldBytes, 0, "no output held");
  equal(store.budgetedBytes <= budgetBytes, true, "records stay under the budget");
  equal(await store.getCall("m0"), undefined, "the oldest went first");
  equal((await store.getCall("m999"))?.callId, "m999", "the newest stays");
  equal(store.wasEvicted("m0"), true);
  equal(store.evictedCalls >= 1000 - 100, true, "about nine hundred evicted");
});

Deno.test("an unfinished call is never evicted, and a just-recorded one reaches its reader", async () => {
  const clock = new FakeClock();
  const budgetBytes = 2 * CALL_OVERHEAD_BYTES + 10;
  const store = new MemoryOutputStore(clock, { retentionMs: 60_000, budgetBytes });
  await call(store, "map", null);
  store.record("map", out(0, 500)); // over budget, but the map is still running
  equal((await store.getCall("map"))?.callId, "map");
  await call(store, "big", 1);
  store.record("big", out(0, 5000)); // alone over the budget: kept until another call needs room
  equal((await store.readOutputs("big", { cursor: 0, max: 1 })).outputs[0].data.byteLength, 5000);
  await call(store, "next", 1);
  store.record("next", out(0, 1));
  equal(await store.getCall("big"), undefined, "evicted once another result came in");
  equal(store.wasEvicted("big"), true);
  equal((await store.getCall("map"))?.callId, "map", "the running map is still there");
  // A waiter on an evicted call is not left hanging.
  await store.waitOutputs("big", { cursor: 0, timeoutMs: 60_000 });
});

Deno.test("an output that is a view into a larger buffer is copied, not kept with its buffer", async () => {
  const store = new MemoryOutputStore(new FakeClock(), { retentionMs: 60_000 });
  await call(store, "s", 1);
  const frame = new Uint8Array(64 * 1024);
  store.record("s", { idx: 0, data: frame.subarray(100, 110) });
  const [kept] = (await store.readOutputs("s", { cursor: 0, max: 1 })).outputs;
  equal(kept.data.byteLength, 10);
  equal(kept.data.buffer.byteLength, 10, "its own buffer");
});

Deno.test("the default budget is 64 MiB", () => {
  equal(DEFAULT_RETAINED_OUTPUT_BYTES, 64 * 1024 * 1024);
});
