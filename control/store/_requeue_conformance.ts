/** The `CallQueue` contract (requeues, departed workers, the sweep), as cases every store runs. */
import { deepStrictEqual, equal } from "node:assert/strict";
import type { Lease } from "./call_queue.ts";
import {
  type Case,
  completeLease,
  held,
  ids,
  input,
  inputs,
  LEASE_MS,
  MAX_INFRA,
  newCall,
  output,
} from "./_conformance_fixture.ts";

/** Cases of `store.queue` that put leased inputs back. */
export const REQUEUE_CASES: Record<string, Case> = {
  "requeue() puts an input back with infraAttempt incremented": async ({ store }) => {
    await newCall(store, "c1");
    await store.queue.enqueue(inputs("c1", 2));
    const [a] = await store.queue.lease("w1", { max: 1, leaseMs: LEASE_MS });
    const wrongToken = [{ inputId: a.input.inputId, leaseToken: "nope" }];
    deepStrictEqual(await store.queue.requeue(wrongToken, MAX_INFRA), {
      requeued: 0,
      exhausted: [],
    });
    const report = await store.queue.requeue([held(a)], MAX_INFRA);
    deepStrictEqual(report, { requeued: 1, exhausted: [] });
    const again = await store.queue.lease("w2", { max: 10, leaseMs: LEASE_MS });
    deepStrictEqual(ids(again), ["c1-in-1", "c1-in-0"], "requeued behind the queue");
    deepStrictEqual(again[1].input, { ...a.input, infraAttempt: 1 });
    deepStrictEqual(await completeLease(store, a), [false], "the old token is stale");
    deepStrictEqual(await completeLease(store, again[1]), [true]);
  },

  "requeue() past maxInfraAttempts reports the input exhausted instead of queueing it": async (
    { store },
  ) => {
    await newCall(store, "c1");
    await store.queue.enqueue([input("c1", 0)]);
    let lease: Lease | undefined;
    for (let attempt = 0; attempt < MAX_INFRA; attempt++) {
      [lease] = await store.queue.lease("w1", { max: 1, leaseMs: LEASE_MS });
      const report = await store.queue.requeue([held(lease)], MAX_INFRA);
      deepStrictEqual(report, { requeued: 1, exhausted: [] });
    }
    [lease] = await store.queue.lease("w1", { max: 1, leaseMs: LEASE_MS });
    const report = await store.queue.requeue([held(lease)], MAX_INFRA);
    deepStrictEqual(report, {
      requeued: 0,
      exhausted: [{ ...input("c1", 0), infraAttempt: MAX_INFRA + 1 }],
    });
    deepStrictEqual(await store.queue.depth(), {});
    deepStrictEqual(await store.queue.lease("w1", { max: 1, leaseMs: LEASE_MS }), []);
    deepStrictEqual(
      await store.queue.renew("w1", { inputIds: [lease.input.inputId], leaseMs: LEASE_MS }),
      ["c1-in-0"],
    );
    deepStrictEqual(await completeLease(store, lease), [false]);
    const fail = { inputId: "c1-in-0", leaseToken: null, output: output(0, "failed") };
    deepStrictEqual(await store.queue.complete([fail]), [true], "the control plane fails it once");
    deepStrictEqual((await store.outputs.readOutputs("c1", { cursor: 0, max: 10 })).outputs, [
      output(0, "failed"),
    ]);
  },

  "releaseWorker() requeues every lease the worker held": async ({ store }) => {
    await newCall(store, "c1");
    await store.queue.enqueue(inputs("c1", 4));
    const gone = await store.queue.lease("w1", { max: 2, leaseMs: LEASE_MS });
    const [kept] = await store.queue.lease("w1:2", { max: 1, leaseMs: LEASE_MS });
    deepStrictEqual(await store.queue.releaseWorker("w1", MAX_INFRA), {
      requeued: 2,
      exhausted: [],
    });
    deepStrictEqual(await store.queue.releaseWorker("w1", MAX_INFRA), {
      requeued: 0,
      exhausted: [],
    });
    const again = await store.queue.lease("w3", { max: 10, leaseMs: LEASE_MS });
    deepStrictEqual(ids(again), ["c1-in-3", ...ids(gone)]);
    equal(again[1].input.infraAttempt, 1);
    deepStrictEqual(await completeLease(store, gone[0]), [false]);
    deepStrictEqual(await completeLease(store, kept), [true], "other workers keep theirs");
  },

  "sweep() requeues only expired leases, and a late completion is then rejected": async (
    { store, clock },
  ) => {
    await newCall(store, "c1");
    await store.queue.enqueue(inputs("c1", 2));
    const [slow] = await store.queue.lease("w1", { max: 1, leaseMs: 1_000 });
    const [fresh] = await store.queue.lease("w2", { max: 1, leaseMs: 5_000 });
    clock.advance(999);
    deepStrictEqual(await store.queue.sweep(MAX_INFRA), { requeued: 0, exhausted: [] });
    clock.advance(1);
    deepStrictEqual(await store.queue.sweep(MAX_INFRA), { requeued: 1, exhausted: [] });
    deepStrictEqual(await completeLease(store, slow), [false], "w1 was too late");
    deepStrictEqual(await completeLease(store, fresh), [true]);
    const [retry] = await store.queue.lease("w3", { max: 1, leaseMs: 1_000 });
    deepStrictEqual(retry.input, { ...slow.input, infraAttempt: 1 });
    deepStrictEqual(await completeLease(store, retry), [true]);
  },

  "sweep() reports inputs whose expired leases used up the retry budget": async (
    { store, clock },
  ) => {
    await store.queue.enqueue([input("c1", 0)]);
    for (let attempt = 0; attempt < MAX_INFRA; attempt++) {
      await store.queue.lease("w1", { max: 1, leaseMs: 10 });
      clock.advance(10);
      equal((await store.queue.sweep(MAX_INFRA)).requeued, 1);
    }
    await store.queue.lease("w1", { max: 1, leaseMs: 10 });
    clock.advance(10);
    const report = await store.queue.sweep(MAX_INFRA);
    deepStrictEqual(report.exhausted.map((i) => i.infraAttempt), [MAX_INFRA + 1]);
    deepStrictEqual(await store.queue.sweep(MAX_INFRA), { requeued: 0, exhausted: [] });
  },

  "giveBack() returns leases to the front of the queue in order, with no attempt counted": async (
    { store, clock },
  ) => {
    await newCall(store, "c1");
    await store.queue.enqueue([...inputs("c1", 3), ...inputs("c2", 1, "fn-b")]);
    const [a, b] = await store.queue.lease("w1", { max: 2, leaseMs: LEASE_MS });
    equal(await store.queue.giveBack([{ inputId: a.input.inputId, leaseToken: "nope" }]), 0);
    equal(await store.queue.giveBack([held(a), held(b), held(a)]), 2);
    equal(await store.queue.giveBack([held(a)]), 0, "no longer held");
    deepStrictEqual(await store.queue.depth(), { "fn-a": 3, "fn-b": 1 });
    deepStrictEqual(
      await store.queue.renew("w1", { inputIds: [a.input.inputId], leaseMs: LEASE_MS }),
      [a.input.inputId],
    );
    clock.advance(LEASE_MS + 1);
    deepStrictEqual(await store.queue.sweep(MAX_INFRA), { requeued: 0, exhausted: [] });
    const again = await store.queue.lease("w2", { max: 10, leaseMs: LEASE_MS });
    deepStrictEqual(ids(again), ["c1-in-0", "c1-in-1", "c1-in-2", "c2-in-0"]);
    deepStrictEqual(again[0].input, a.input, "no attempt counted");
    deepStrictEqual(await completeLease(store, a), [false], "the old token is stale");
    deepStrictEqual(await completeLease(store, again[0]), [true]);
  },
};
