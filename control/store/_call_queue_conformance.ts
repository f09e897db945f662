/** The `CallQueue` contract (queueing and leasing), as cases every store runs. */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import {
  app,
  type Case,
  completeLease,
  fnRecord,
  ids,
  input,
  inputs,
  LEASE_MS,
  MAX_INFRA,
  newCall,
  settlesWithin,
  timersPending,
} from "./_conformance_fixture.ts";

/** Cases of `store.queue` that queue and lease. */
export const CALL_QUEUE_CASES: Record<string, Case> = {
  "lease() returns queued inputs in FIFO order with their fields intact": async (
    { store, clock },
  ) => {
    const queued = [...inputs("c1", 3), ...inputs("c2", 2, "fn-b")];
    queued[4] = { ...queued[4], args: new Uint8Array([]), idx: 1_000_000 };
    await store.queue.enqueue(queued.slice(0, 2));
    await store.queue.enqueue(queued.slice(2));
    const first = await store.queue.lease("w1", { max: 3, leaseMs: LEASE_MS });
    const second = await store.queue.lease("w2", { max: 3, leaseMs: LEASE_MS });
    deepStrictEqual([...first, ...second].map((l) => l.input), queued);
    for (const l of first) {
      equal(l.workerId, "w1");
      equal(l.expiresMs, clock.now() + LEASE_MS);
    }
    equal(new Set([...first, ...second].map((l) => l.leaseToken)).size, 5);
    deepStrictEqual(await store.queue.lease("w3", { max: 3, leaseMs: LEASE_MS }), []);
  },

  "enqueue() ignores an input id that is already queued or leased": async ({ store }) => {
    await store.queue.enqueue(inputs("c1", 2));
    await store.queue.lease("w1", { max: 1, leaseMs: LEASE_MS });
    await store.queue.enqueue(inputs("c1", 3));
    deepStrictEqual(await store.queue.depth(), { "fn-a": 2 });
    deepStrictEqual(ids(await store.queue.lease("w1", { max: 10, leaseMs: LEASE_MS })), [
      "c1-in-1",
      "c1-in-2",
    ]);
  },

  "lease() hands each queued input to one worker only, even to concurrent callers": async (
    { store },
  ) => {
    await store.queue.enqueue(inputs("c1", 50));
    const batches = await Promise.all(
      Array.from(
        { length: 10 },
        (_, w) => store.queue.lease(`w${w}`, { max: 7, leaseMs: LEASE_MS }),
      ),
    );
    const leased = batches.flatMap(ids);
    equal(leased.length, 50);
    equal(new Set(leased).size, 50);
    deepStrictEqual(await store.queue.lease("late", { max: 10, leaseMs: LEASE_MS }), []);
  },

  "renew() extends held leases and reports the ones the worker lost": async (
    { store, clock },
  ) => {
    await newCall(store, "c1");
    await store.queue.enqueue(inputs("c1", 3));
    const [mine, done] = await store.queue.lease("w1", { max: 2, leaseMs: LEASE_MS });
    const [theirs] = await store.queue.lease("w2", { max: 1, leaseMs: LEASE_MS });
    await completeLease(store, done);
    clock.advance(LEASE_MS - 1);
    const ask = [mine.input.inputId, done.input.inputId, theirs.input.inputId, "unknown"];
    deepStrictEqual(
      await store.queue.renew("w1", { inputIds: ask, leaseMs: LEASE_MS }),
      ask.slice(1),
    );
    clock.advance(2);
    equal((await store.queue.sweep(MAX_INFRA)).requeued, 1, "only w2's lease expired");
    deepStrictEqual(await completeLease(store, mine), [true]);
    deepStrictEqual(
      await store.queue.renew("w1", { inputIds: [mine.input.inputId], leaseMs: LEASE_MS }),
      [
        mine.input.inputId,
      ],
    );
  },

  "depth() counts queued, not leased, inputs per function": async ({ store }) => {
    deepStrictEqual(await store.queue.depth(), {});
    await store.queue.enqueue([...inputs("c1", 3), ...inputs("c2", 2, "fn-b")]);
    deepStrictEqual(await store.queue.depth(), { "fn-a": 3, "fn-b": 2 });
    await store.queue.lease("w1", { max: 4, leaseMs: LEASE_MS });
    deepStrictEqual(await store.queue.depth(), { "fn-b": 1 });
    await store.queue.releaseWorker("w1", MAX_INFRA);
    deepStrictEqual(await store.queue.depth(), { "fn-a": 3, "fn-b": 2 });
  },

  "dropQueued() drops the queued inputs of those functions only": async ({ store }) => {
    await store.apps.putApp(app("app-1", { f: "fn-a" }), [fnRecord("fn-a", "app-1")]);
    await newCall(store, "c1");
    await store.queue.enqueue(inputs("c1", 2));
    const [running] = await store.queue.lease("w1", { max: 1, leaseMs: LEASE_MS });
    await store.queue.enqueue([...inputs("c1", 5).slice(2), ...inputs("c2", 2, "fn-b")]);
    equal(await store.queue.dropQueued(["fn-a", "fn-x"]), 4);
    equal(await store.queue.dropQueued([]), 0);
    deepStrictEqual(await store.queue.depth(), { "fn-b": 2 });
    const rest = await store.queue.lease("w2", { max: 10, leaseMs: LEASE_MS });
    deepStrictEqual(ids(rest), ["c2-in-0", "c2-in-1"]);
    deepStrictEqual(await completeLease(store, running), [true], "leased inputs still finish");
  },

  "waitInputs() resolves when inputs are enqueued, and after timeoutMs otherwise": async (
    { store, clock },
  ) => {
    const waiting = store.queue.waitInputs({ timeoutMs: 10_000 });
    await store.queue.enqueue([input("c1", 0)]);
    ok(await settlesWithin(waiting, 2_000), "woken by enqueue");
    const already = store.queue.waitInputs({ timeoutMs: 10_000 });
    ok(await settlesWithin(already, 2_000), "inputs already queued");
    await store.queue.lease("w1", { max: 1, leaseMs: LEASE_MS });
    const idle = store.queue.waitInputs({ timeoutMs: 50 });
    await timersPending(clock);
    ok(!(await settlesWithin(idle, 20)), "an empty queue waits");
    await clock.tick(50);
    ok(await settlesWithin(idle, 2_000), "until the timeout");
    const abort = new AbortController();
    const aborted = store.queue.waitInputs({ timeoutMs: 10_000, signal: abort.signal });
    abort.abort();
    ok(await settlesWithin(aborted, 2_000), "or the abort");
  },
};
