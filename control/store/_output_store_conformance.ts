/** The `OutputStore` contract, with the completions that feed it, as cases every store runs. */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import {
  type Case,
  completeLease,
  ids,
  input,
  inputs,
  LEASE_MS,
  newCall,
  output,
  RETENTION_MS,
  settlesWithin,
  timersPending,
} from "./_conformance_fixture.ts";

/** Cases of `store.outputs` and of `store.queue.complete()`. */
export const OUTPUT_STORE_CASES: Record<string, Case> = {
  "createCall() and setCallTotal() record a call": async ({ store }) => {
    const call = { callId: "c1", functionId: "fn-a", appId: "app-1", createdMs: 7, total: null };
    await store.outputs.createCall(call);
    deepStrictEqual(await store.outputs.getCall("c1"), call);
    await store.outputs.createCall({ ...call, createdMs: 99 });
    equal((await store.outputs.getCall("c1"))?.createdMs, 7, "a second create changes nothing");
    await store.outputs.setCallTotal("c1", 3);
    deepStrictEqual(await store.outputs.getCall("c1"), { ...call, total: 3 });
    equal(await store.outputs.getCall("nope"), undefined);
  },

  "complete() accepts the current lease token and rejects a stale one": async ({ store }) => {
    await newCall(store, "c1");
    await store.queue.enqueue(inputs("c1", 2));
    const [a, b] = await store.queue.lease("w1", { max: 2, leaseMs: LEASE_MS });
    const stale = { ...b, leaseToken: `${b.leaseToken}x` };
    deepStrictEqual(await completeLease(store, stale), [false]);
    deepStrictEqual(await completeLease(store, a), [true]);
    deepStrictEqual(await completeLease(store, b), [true]);
    deepStrictEqual(await completeLease(store, b), [false], "already finished");
    const { outputs } = await store.outputs.readOutputs("c1", { cursor: 0, max: 10 });
    deepStrictEqual(outputs, [output(0), output(1)]);
  },

  "complete() records each output index once": async ({ store }) => {
    await newCall(store, "c1");
    const twins = [input("c1", 0), { ...input("c1", 0), inputId: "twin" }, input("c1", 1)];
    await store.queue.enqueue(twins);
    const leases = await store.queue.lease("w1", { max: 3, leaseMs: LEASE_MS });
    const accepted = await store.queue.complete(leases.map((l) => ({
      inputId: l.input.inputId,
      leaseToken: l.leaseToken,
      output: output(l.input.idx, l.input.inputId),
    })));
    deepStrictEqual(accepted, [true, false, true]);
    const again = { inputId: twins[0].inputId, leaseToken: null, output: output(0, "again") };
    deepStrictEqual(await store.queue.complete([again, again]), [false, false]);
    const { outputs } = await store.outputs.readOutputs("c1", { cursor: 0, max: 10 });
    deepStrictEqual(outputs, [output(0, "c1-in-0"), output(1, "c1-in-1")]);
  },

  "complete() rejects outputs of a call that does not exist": async ({ store }) => {
    await store.queue.enqueue([input("ghost", 0)]);
    const [lease] = await store.queue.lease("w1", { max: 1, leaseMs: LEASE_MS });
    deepStrictEqual(await completeLease(store, lease), [false]);
    deepStrictEqual(await store.outputs.readOutputs("ghost", { cursor: 0, max: 10 }), {
      outputs: [],
      cursor: 0,
    });
  },

  "complete() with a null lease token finishes queued and leased inputs alike": async (
    { store },
  ) => {
    await newCall(store, "c1");
    await store.queue.enqueue(inputs("c1", 3));
    const [leased] = await store.queue.lease("w1", { max: 1, leaseMs: LEASE_MS });
    const system = [0, 1].map((idx) => ({
      inputId: `c1-in-${idx}`,
      leaseToken: null,
      output: output(idx),
    }));
    deepStrictEqual(await store.queue.complete(system), [true, true]);
    deepStrictEqual(await completeLease(store, leased), [false], "the worker lost it");
    deepStrictEqual(await store.queue.depth(), { "fn-a": 1 });
    deepStrictEqual(ids(await store.queue.lease("w2", { max: 10, leaseMs: LEASE_MS })), [
      "c1-in-2",
    ]);
    deepStrictEqual(await store.queue.depth(), {});
  },

  "readOutputs() pages through outputs with a cursor": async ({ store }) => {
    await newCall(store, "c1");
    await store.queue.enqueue(inputs("c1", 5));
    const leases = await store.queue.lease("w1", { max: 5, leaseMs: LEASE_MS });
    for (const l of leases.reverse()) await completeLease(store, l);
    const first = await store.outputs.readOutputs("c1", { cursor: 0, max: 2 });
    deepStrictEqual(first, { outputs: [output(4), output(3)], cursor: 2 });
    const rest = await store.outputs.readOutputs("c1", { cursor: first.cursor, max: 10 });
    deepStrictEqual(rest, { outputs: [output(2), output(1), output(0)], cursor: 5 });
    deepStrictEqual(await store.outputs.readOutputs("c1", { cursor: 5, max: 10 }), {
      outputs: [],
      cursor: 5,
    });
  },

  "waitOutputs() resolves promptly when an output arrives": async ({ store }) => {
    await newCall(store, "c1");
    await store.queue.enqueue(inputs("c1", 2));
    const [a, b] = await store.queue.lease("w1", { max: 2, leaseMs: LEASE_MS });
    const waiting = store.outputs.waitOutputs("c1", { cursor: 0, timeoutMs: 10_000 });
    await completeLease(store, a);
    ok(await settlesWithin(waiting, 2_000), "woken by the output");
    ok(
      await settlesWithin(store.outputs.waitOutputs("c1", { cursor: 0, timeoutMs: 10_000 }), 2_000),
      "already past cursor",
    );
    const total = store.outputs.waitOutputs("c1", { cursor: 1, timeoutMs: 10_000 });
    await store.outputs.setCallTotal("c1", 2);
    ok(await settlesWithin(total, 2_000), "woken by the total");
    await completeLease(store, b);
  },

  "waitOutputs() resolves after timeoutMs, or on abort, when nothing arrives": async (
    { store, clock },
  ) => {
    await newCall(store, "c1");
    const waiting = store.outputs.waitOutputs("c1", { cursor: 0, timeoutMs: 50 });
    await timersPending(clock);
    ok(!(await settlesWithin(waiting, 20)), "still waiting before the timeout");
    await clock.tick(49);
    ok(!(await settlesWithin(waiting, 20)), "still waiting 1 ms before the timeout");
    await clock.tick(1);
    ok(await settlesWithin(waiting, 2_000), "ended by the timeout");
    const abort = new AbortController();
    const aborted = store.outputs.waitOutputs("c1", {
      cursor: 0,
      timeoutMs: 10_000,
      signal: abort.signal,
    });
    abort.abort();
    ok(await settlesWithin(aborted, 2_000), "ended by the abort");
    const unknown = store.outputs.waitOutputs("nope", { cursor: 0, timeoutMs: 10_000 });
    ok(await settlesWithin(unknown, 2_000), "an unknown call has nothing to wait for");
  },

  "forgetIdle() forgets calls idle for longer than the retention period": async (
    { store, clock },
  ) => {
    await newCall(store, "old");
    await store.queue.enqueue([input("old", 0)]);
    const [lease] = await store.queue.lease("w1", { max: 1, leaseMs: LEASE_MS });
    await completeLease(store, lease);
    clock.advance(RETENTION_MS / 2);
    await newCall(store, "young");
    clock.advance(RETENTION_MS / 2);
    equal(await store.outputs.forgetIdle(), 0);
    const kept = await store.outputs.readOutputs("old", { cursor: 0, max: 10 });
    equal(kept.outputs.length, 1, "kept until past retention");
    clock.advance(1);
    equal(await store.outputs.forgetIdle(), 1);
    equal(await store.outputs.getCall("old"), undefined);
    const gone = await store.outputs.readOutputs("old", { cursor: 0, max: 10 });
    deepStrictEqual(gone, { outputs: [], cursor: 0 });
    equal((await store.outputs.getCall("young"))?.callId, "young");
  },
};
