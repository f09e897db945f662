import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { FakeClock } from "../proto/fake_clock.ts";
import { createMemoryStore, type InputRecord, type Lease } from "./store/mod.ts";
import { AHEAD_WINDOW_MS, LeaseAhead, MAX_AHEAD } from "./_lease_ahead.ts";

const LEASE_MS = 30_000;

function inputs(n: number): InputRecord[] {
  return Array.from({ length: n }, (_, idx) => ({
    inputId: `fc-1:${idx}`,
    callId: "fc-1",
    functionId: "fu-1",
    idx,
    args: new Uint8Array([idx]),
    infraAttempt: 0,
  }));
}

const idx = (leases: Lease[]) => leases.map((l) => l.input.idx);

function setup(maxAhead = 32) {
  const clock = new FakeClock();
  const store = createMemoryStore({ clock });
  const ahead = new LeaseAhead(store.queue, "w1", { leaseMs: LEASE_MS, clock, maxAhead });
  return { clock, store, ahead };
}

Deno.test("LeaseAhead leases only what is asked until it knows how fast the worker takes", async () => {
  const { store, ahead } = setup();
  await store.queue.enqueue(inputs(10));
  deepStrictEqual(idx(await ahead.take(3)), [0, 1, 2]);
  equal(ahead.size, 0);
  deepStrictEqual(await store.queue.depth(), { "fu-1": 7 });
  await store.close();
});

Deno.test("LeaseAhead keeps about a window of a fast worker's inputs ahead, in queue order", async () => {
  const { clock, store, ahead } = setup();
  await store.queue.enqueue(inputs(200));
  // 10 inputs every 10 ms: one per ms, so about AHEAD_WINDOW_MS ahead.
  const seen: number[] = [];
  for (let i = 0; i < 10; i++) {
    seen.push(...idx(await ahead.take(10)));
    clock.advance(10);
  }
  await ahead.giveBack(); // waits for the refill in flight too
  deepStrictEqual(seen, Array.from({ length: 100 }, (_, i) => i));
  const queued = (await store.queue.depth())["fu-1"];
  equal(queued, 100, "what was ahead went back to the queue");
  const next = await store.queue.lease("w2", { max: 1, leaseMs: LEASE_MS });
  deepStrictEqual(idx(next), [100], "at its front, with no attempt counted");
  equal(next[0].input.infraAttempt, 0);
  ok(AHEAD_WINDOW_MS > 0);
  await store.close();
});

Deno.test("LeaseAhead holds at most maxAhead, and nothing for a worker that takes slowly", async () => {
  const { clock, store, ahead } = setup(4);
  await store.queue.enqueue(inputs(100));
  for (let i = 0; i < 10; i++) {
    await ahead.take(10);
    clock.advance(1);
  }
  await new Promise((r) => setTimeout(r, 0));
  equal(ahead.size <= 4, true, `holds ${ahead.size}`);
  const slow = setup();
  await slow.store.queue.enqueue(inputs(10));
  for (let i = 0; i < 4; i++) {
    await slow.ahead.take(1);
    slow.clock.advance(1_000);
  }
  equal(slow.ahead.size, 0);
  await store.close();
  await slow.store.close();
});

Deno.test("LeaseAhead forgets inputs it no longer holds and reports the others", async () => {
  const { clock, store, ahead } = setup();
  await store.queue.enqueue(inputs(100));
  for (let i = 0; i < 6; i++) {
    await ahead.take(10);
    clock.advance(10);
  }
  await new Promise((r) => setTimeout(r, 0));
  const held = ahead.ids();
  equal(held.length > 0, true);
  deepStrictEqual(ahead.forget([held[0], "fc-9:0"]), ["fc-9:0"]);
  deepStrictEqual(ahead.ids(), held.slice(1));
  await store.close();
});

Deno.test("LeaseAhead leases as far ahead as the worker's largest credit, up to MAX_AHEAD", async () => {
  const { clock, store, ahead } = setup(4);
  await store.queue.enqueue(inputs(3000));
  ahead.widen(2); // less than maxAhead: no change
  ahead.widen(200); // a worker with deep pipelining windows
  // 100 inputs every 10 ms: AHEAD_WINDOW_MS of them is more than 200.
  for (let i = 0; i < 8; i++) {
    await ahead.take(100);
    clock.advance(10);
  }
  await ahead.take(100);
  await new Promise((r) => setTimeout(r, 0));
  equal(ahead.size > 4, true, `holds ${ahead.size}`);
  equal(ahead.size <= 200, true, `holds ${ahead.size}`);
  ahead.widen(1_000_000);
  for (let i = 0; i < 8; i++) {
    await ahead.take(1000);
    clock.advance(10);
  }
  await new Promise((r) => setTimeout(r, 0));
  equal(ahead.size <= MAX_AHEAD, true, `holds ${ahead.size}`);
  await ahead.giveBack();
  await store.close();
});
