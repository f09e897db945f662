import { deepStrictEqual, equal } from "node:assert/strict";
import { FakeClock } from "../../proto/fake_clock.ts";
import { MemoryOutputStore } from "./memory_output_store.ts";

const out = (idx: number, bytes = 10) => ({ idx, data: new Uint8Array(bytes) });

async function call(store: MemoryOutputStore, callId: string, total: number | null) {
  await store.createCall({ callId, functionId: "fn", appId: "ap", createdMs: 0, total });
}

Deno.test("release() drops delivered outputs at once; later reads skip past them", async () => {
  const store = new MemoryOutputStore(new FakeClock(), 60_000);
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
  const store = new MemoryOutputStore(new FakeClock(), 60_000);
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
  // Room for about three 1,000-byte outputs.
  const store = new MemoryOutputStore(clock, 60_000, 3_300);
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
  equal(store.heldBytes <= 3_300, true);
});

Deno.test("forgetting idle calls frees their bytes", async () => {
  const clock = new FakeClock();
  const store = new MemoryOutputStore(clock, 1_000);
  await call(store, "s", 1);
  store.record("s", out(0, 100));
  clock.advance(1_001);
  equal(await store.forgetIdle(), 1);
  equal(store.heldBytes, 0);
});
