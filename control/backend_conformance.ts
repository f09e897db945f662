/**
 * The contract every {@linkcode Backend} honours, as tests: each backend's
 * `*_test.ts` calls {@linkcode backendConformance} with a factory, so the
 * embedded and Redis backends are held to exactly the same behaviour.
 * @module
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import type { AppRecord, Backend, FunctionRecord, InputRecord, Lease } from "./backend.ts";
import type { FakeClock } from "./_fake_clock.ts";

/** What a conformance setup returns: a fresh, empty backend driven by `clock`. */
export interface ConformanceFixture {
  backend: Backend;
  clock: FakeClock;
  teardown: () => Promise<void>;
}

/** What the suite asks of a setup. */
export interface ConformanceOptions {
  /** The retention the backend must be built with (the retention test relies on it). */
  retentionMs: number;
}

const RETENTION_MS = 60_000;
const LEASE_MS = 30_000;
const MAX_INFRA = 2;

/**
 * Registers the conformance tests, each named `"<name>: ..."`.
 *
 * @param name the backend's name, prefixed to every test name
 * @param setup builds a fresh backend for one test; it must honour `retentionMs`
 *
 * @example
 * ```ts ignore
 * import { backendConformance } from "./backend_conformance.ts";
 * import { FakeClock } from "./_fake_clock.ts";
 * import { MemoryBackend } from "./memory_backend.ts";
 * backendConformance("memory", ({ retentionMs }) => {
 *   const clock = new FakeClock();
 *   const backend = new MemoryBackend({ clock, retentionMs });
 *   return Promise.resolve({ backend, clock, teardown: () => backend.close() });
 * });
 * ```
 */
export function backendConformance(
  name: string,
  setup: (options: ConformanceOptions) => Promise<ConformanceFixture>,
): void {
  for (const [title, body] of Object.entries(CASES)) {
    Deno.test(`${name}: ${title}`, async () => {
      const fixture = await setup({ retentionMs: RETENTION_MS });
      try {
        await body(fixture);
      } finally {
        await fixture.teardown();
      }
    });
  }
}

type Case = (f: ConformanceFixture) => Promise<void>;

function input(callId: string, idx: number, functionId = "fn-a"): InputRecord {
  const args = new Uint8Array([idx % 256, 0, 255, 10, 13]);
  return { inputId: `${callId}-in-${idx}`, callId, functionId, idx, args, infraAttempt: 0 };
}

function inputs(callId: string, n: number, functionId = "fn-a"): InputRecord[] {
  return Array.from({ length: n }, (_, i) => input(callId, i, functionId));
}

function output(idx: number, text = `out-${idx}`) {
  return { idx, data: new TextEncoder().encode(text) };
}

async function newCall(backend: Backend, callId: string, functionId = "fn-a"): Promise<void> {
  await backend.createCall({ callId, functionId, appId: "app-1", createdMs: 1, total: null });
}

function ids(leases: Lease[]): string[] {
  return leases.map((l) => l.input.inputId);
}

function held(lease: Lease): { inputId: string; leaseToken: string } {
  return { inputId: lease.input.inputId, leaseToken: lease.leaseToken };
}

function completeLease(backend: Backend, lease: Lease, text?: string): Promise<boolean[]> {
  const { inputId, idx } = lease.input;
  return backend.complete([{ inputId, leaseToken: lease.leaseToken, output: output(idx, text) }]);
}

function app(appId: string, functionIds: Record<string, string>): AppRecord {
  const base = { name: appId, ephemeral: false, stopped: false, createdMs: 5, bundleHash: "h" };
  return { ...base, appId, entryUrl: "file:///app.ts", functionIds };
}

function fnRecord(functionId: string, appId: string): FunctionRecord {
  return { functionId, appId, name: functionId, def: new Uint8Array([1, 2, 0, 10]) };
}

/** Resolves to `true` if `promise` settles within `ms` of real time. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

const CASES: Record<string, Case> = {
  "putBundle() stores bytes that hasBundle() and getBundle() return": async ({ backend }) => {
    const data = new Uint8Array([0, 1, 2, 255, 10]);
    equal(await backend.hasBundle("h1"), false);
    equal(await backend.getBundle("h1"), undefined);
    await backend.putBundle("h1", data);
    equal(await backend.hasBundle("h1"), true);
    deepStrictEqual(await backend.getBundle("h1"), data);
  },

  "putApp() stores an app and its functions for getApp(), listApps() and getFunction()": async (
    { backend },
  ) => {
    const a = app("app-1", { f: "fn-a", g: "fn-b" });
    await backend.putApp(a, [fnRecord("fn-a", "app-1"), fnRecord("fn-b", "app-1")]);
    await backend.putApp(app("app-2", {}), []);
    deepStrictEqual(await backend.getApp("app-1"), a);
    equal(await backend.getApp("nope"), undefined);
    const names = (await backend.listApps()).map((x) => x.appId).sort();
    deepStrictEqual(names, ["app-1", "app-2"]);
    deepStrictEqual(await backend.getFunction("fn-b"), fnRecord("fn-b", "app-1"));
    equal(await backend.getFunction("nope"), undefined);
  },

  "stopApp() marks the app stopped and drops its queued inputs only": async ({ backend }) => {
    await backend.putApp(app("app-1", { f: "fn-a" }), [fnRecord("fn-a", "app-1")]);
    await backend.putApp(app("app-2", { g: "fn-b" }), [fnRecord("fn-b", "app-2")]);
    await newCall(backend, "c1");
    await backend.enqueue(inputs("c1", 2));
    const [running] = await backend.lease("w1", 1, LEASE_MS);
    await backend.enqueue([...inputs("c1", 5).slice(2), ...inputs("c2", 2, "fn-b")]);
    await backend.stopApp("app-1");
    await backend.stopApp("unknown-app");
    equal((await backend.getApp("app-1"))?.stopped, true);
    equal((await backend.getApp("app-2"))?.stopped, false);
    deepStrictEqual(await backend.queueDepth(), { "fn-b": 2 });
    deepStrictEqual(ids(await backend.lease("w2", 10, LEASE_MS)), ["c2-in-0", "c2-in-1"]);
    deepStrictEqual(await completeLease(backend, running), [true], "leased inputs still finish");
  },

  "createCall() and setCallTotal() record a call": async ({ backend }) => {
    const call = { callId: "c1", functionId: "fn-a", appId: "app-1", createdMs: 7, total: null };
    await backend.createCall(call);
    deepStrictEqual(await backend.getCall("c1"), call);
    await backend.createCall({ ...call, createdMs: 99 });
    equal((await backend.getCall("c1"))?.createdMs, 7, "a second create changes nothing");
    await backend.setCallTotal("c1", 3);
    deepStrictEqual(await backend.getCall("c1"), { ...call, total: 3 });
    equal(await backend.getCall("nope"), undefined);
  },

  "lease() returns queued inputs in FIFO order with their fields intact": async (
    { backend, clock },
  ) => {
    const queued = [...inputs("c1", 3), ...inputs("c2", 2, "fn-b")];
    queued[4] = { ...queued[4], args: new Uint8Array([]), idx: 1_000_000 };
    await backend.enqueue(queued.slice(0, 2));
    await backend.enqueue(queued.slice(2));
    const first = await backend.lease("w1", 3, LEASE_MS);
    const second = await backend.lease("w2", 3, LEASE_MS);
    deepStrictEqual([...first, ...second].map((l) => l.input), queued);
    for (const l of first) {
      equal(l.workerId, "w1");
      equal(l.expiresMs, clock.now() + LEASE_MS);
    }
    equal(new Set([...first, ...second].map((l) => l.leaseToken)).size, 5);
    deepStrictEqual(await backend.lease("w3", 3, LEASE_MS), []);
  },

  "enqueue() ignores an input id that is already queued or leased": async ({ backend }) => {
    await backend.enqueue(inputs("c1", 2));
    await backend.lease("w1", 1, LEASE_MS);
    await backend.enqueue(inputs("c1", 3));
    deepStrictEqual(await backend.queueDepth(), { "fn-a": 2 });
    deepStrictEqual(ids(await backend.lease("w1", 10, LEASE_MS)), ["c1-in-1", "c1-in-2"]);
  },

  "lease() hands each queued input to one worker only, even to concurrent callers": async (
    { backend },
  ) => {
    await backend.enqueue(inputs("c1", 50));
    const batches = await Promise.all(
      Array.from({ length: 10 }, (_, w) => backend.lease(`w${w}`, 7, LEASE_MS)),
    );
    const leased = batches.flatMap(ids);
    equal(leased.length, 50);
    equal(new Set(leased).size, 50);
    deepStrictEqual(await backend.lease("late", 10, LEASE_MS), []);
  },

  "renew() extends held leases and reports the ones the worker lost": async (
    { backend, clock },
  ) => {
    await newCall(backend, "c1");
    await backend.enqueue(inputs("c1", 3));
    const [mine, done] = await backend.lease("w1", 2, LEASE_MS);
    const [theirs] = await backend.lease("w2", 1, LEASE_MS);
    await completeLease(backend, done);
    clock.advance(LEASE_MS - 1);
    const ask = [mine.input.inputId, done.input.inputId, theirs.input.inputId, "unknown"];
    deepStrictEqual(await backend.renew("w1", ask, LEASE_MS), ask.slice(1));
    clock.advance(2);
    equal((await backend.sweep(MAX_INFRA)).requeued, 1, "only w2's lease expired");
    deepStrictEqual(await completeLease(backend, mine), [true]);
    deepStrictEqual(await backend.renew("w1", [mine.input.inputId], LEASE_MS), [
      mine.input.inputId,
    ]);
  },

  "complete() accepts the current lease token and rejects a stale one": async ({ backend }) => {
    await newCall(backend, "c1");
    await backend.enqueue(inputs("c1", 2));
    const [a, b] = await backend.lease("w1", 2, LEASE_MS);
    const stale = { ...b, leaseToken: `${b.leaseToken}x` };
    deepStrictEqual(await completeLease(backend, stale), [false]);
    deepStrictEqual(await completeLease(backend, a), [true]);
    deepStrictEqual(await completeLease(backend, b), [true]);
    deepStrictEqual(await completeLease(backend, b), [false], "already finished");
    const { outputs } = await backend.readOutputs("c1", 0, 10);
    deepStrictEqual(outputs, [output(0), output(1)]);
  },

  "complete() records each output index once": async ({ backend }) => {
    await newCall(backend, "c1");
    const twins = [input("c1", 0), { ...input("c1", 0), inputId: "twin" }, input("c1", 1)];
    await backend.enqueue(twins);
    const leases = await backend.lease("w1", 3, LEASE_MS);
    const accepted = await backend.complete(leases.map((l) => ({
      inputId: l.input.inputId,
      leaseToken: l.leaseToken,
      output: output(l.input.idx, l.input.inputId),
    })));
    deepStrictEqual(accepted, [true, false, true]);
    const again = { inputId: twins[0].inputId, leaseToken: null, output: output(0, "again") };
    deepStrictEqual(await backend.complete([again, again]), [false, false]);
    const { outputs } = await backend.readOutputs("c1", 0, 10);
    deepStrictEqual(outputs, [output(0, "c1-in-0"), output(1, "c1-in-1")]);
  },

  "complete() rejects outputs of a call that does not exist": async ({ backend }) => {
    await backend.enqueue([input("ghost", 0)]);
    const [lease] = await backend.lease("w1", 1, LEASE_MS);
    deepStrictEqual(await completeLease(backend, lease), [false]);
    deepStrictEqual(await backend.readOutputs("ghost", 0, 10), { outputs: [], cursor: 0 });
  },

  "complete() with a null lease token finishes queued and leased inputs alike": async (
    { backend },
  ) => {
    await newCall(backend, "c1");
    await backend.enqueue(inputs("c1", 3));
    const [leased] = await backend.lease("w1", 1, LEASE_MS);
    const system = [0, 1].map((idx) => ({
      inputId: `c1-in-${idx}`,
      leaseToken: null,
      output: output(idx),
    }));
    deepStrictEqual(await backend.complete(system), [true, true]);
    deepStrictEqual(await completeLease(backend, leased), [false], "the worker lost it");
    deepStrictEqual(await backend.queueDepth(), { "fn-a": 1 });
    deepStrictEqual(ids(await backend.lease("w2", 10, LEASE_MS)), ["c1-in-2"]);
    deepStrictEqual(await backend.queueDepth(), {});
  },

  "requeue() puts an input back with infraAttempt incremented": async ({ backend }) => {
    await newCall(backend, "c1");
    await backend.enqueue(inputs("c1", 2));
    const [a] = await backend.lease("w1", 1, LEASE_MS);
    const wrongToken = [{ inputId: a.input.inputId, leaseToken: "nope" }];
    deepStrictEqual(await backend.requeue(wrongToken, MAX_INFRA), { requeued: 0, exhausted: [] });
    const report = await backend.requeue([held(a)], MAX_INFRA);
    deepStrictEqual(report, { requeued: 1, exhausted: [] });
    const again = await backend.lease("w2", 10, LEASE_MS);
    deepStrictEqual(ids(again), ["c1-in-1", "c1-in-0"], "requeued behind the queue");
    deepStrictEqual(again[1].input, { ...a.input, infraAttempt: 1 });
    deepStrictEqual(await completeLease(backend, a), [false], "the old token is stale");
    deepStrictEqual(await completeLease(backend, again[1]), [true]);
  },

  "requeue() past maxInfraAttempts reports the input exhausted instead of queueing it": async (
    { backend },
  ) => {
    await newCall(backend, "c1");
    await backend.enqueue([input("c1", 0)]);
    let lease: Lease | undefined;
    for (let attempt = 0; attempt < MAX_INFRA; attempt++) {
      [lease] = await backend.lease("w1", 1, LEASE_MS);
      const report = await backend.requeue([held(lease)], MAX_INFRA);
      deepStrictEqual(report, { requeued: 1, exhausted: [] });
    }
    [lease] = await backend.lease("w1", 1, LEASE_MS);
    const report = await backend.requeue([held(lease)], MAX_INFRA);
    deepStrictEqual(report, {
      requeued: 0,
      exhausted: [{ ...input("c1", 0), infraAttempt: MAX_INFRA + 1 }],
    });
    deepStrictEqual(await backend.queueDepth(), {});
    deepStrictEqual(await backend.lease("w1", 1, LEASE_MS), []);
    deepStrictEqual(await backend.renew("w1", [lease.input.inputId], LEASE_MS), ["c1-in-0"]);
    deepStrictEqual(await completeLease(backend, lease), [false]);
    const fail = { inputId: "c1-in-0", leaseToken: null, output: output(0, "failed") };
    deepStrictEqual(await backend.complete([fail]), [true], "the control plane fails it once");
    deepStrictEqual((await backend.readOutputs("c1", 0, 10)).outputs, [output(0, "failed")]);
  },

  "releaseWorker() requeues every lease the worker held": async ({ backend }) => {
    await newCall(backend, "c1");
    await backend.enqueue(inputs("c1", 4));
    const gone = await backend.lease("w1", 2, LEASE_MS);
    const [kept] = await backend.lease("w1:2", 1, LEASE_MS);
    deepStrictEqual(await backend.releaseWorker("w1", MAX_INFRA), { requeued: 2, exhausted: [] });
    deepStrictEqual(await backend.releaseWorker("w1", MAX_INFRA), { requeued: 0, exhausted: [] });
    const again = await backend.lease("w3", 10, LEASE_MS);
    deepStrictEqual(ids(again), ["c1-in-3", ...ids(gone)]);
    equal(again[1].input.infraAttempt, 1);
    deepStrictEqual(await completeLease(backend, gone[0]), [false]);
    deepStrictEqual(await completeLease(backend, kept), [true], "other workers keep theirs");
  },

  "sweep() requeues only expired leases, and a late completion is then rejected": async (
    { backend, clock },
  ) => {
    await newCall(backend, "c1");
    await backend.enqueue(inputs("c1", 2));
    const [slow] = await backend.lease("w1", 1, 1_000);
    const [fresh] = await backend.lease("w2", 1, 5_000);
    clock.advance(999);
    deepStrictEqual(await backend.sweep(MAX_INFRA), { requeued: 0, exhausted: [] });
    clock.advance(1);
    deepStrictEqual(await backend.sweep(MAX_INFRA), { requeued: 1, exhausted: [] });
    deepStrictEqual(await completeLease(backend, slow), [false], "w1 was too late");
    deepStrictEqual(await completeLease(backend, fresh), [true]);
    const [retry] = await backend.lease("w3", 1, 1_000);
    deepStrictEqual(retry.input, { ...slow.input, infraAttempt: 1 });
    deepStrictEqual(await completeLease(backend, retry), [true]);
  },

  "sweep() reports inputs whose expired leases used up the retry budget": async (
    { backend, clock },
  ) => {
    await backend.enqueue([input("c1", 0)]);
    for (let attempt = 0; attempt < MAX_INFRA; attempt++) {
      await backend.lease("w1", 1, 10);
      clock.advance(10);
      equal((await backend.sweep(MAX_INFRA)).requeued, 1);
    }
    await backend.lease("w1", 1, 10);
    clock.advance(10);
    const report = await backend.sweep(MAX_INFRA);
    deepStrictEqual(report.exhausted.map((i) => i.infraAttempt), [MAX_INFRA + 1]);
    deepStrictEqual(await backend.sweep(MAX_INFRA), { requeued: 0, exhausted: [] });
  },

  "readOutputs() pages through outputs with a cursor": async ({ backend }) => {
    await newCall(backend, "c1");
    await backend.enqueue(inputs("c1", 5));
    const leases = await backend.lease("w1", 5, LEASE_MS);
    for (const l of leases.reverse()) await completeLease(backend, l);
    const first = await backend.readOutputs("c1", 0, 2);
    deepStrictEqual(first, { outputs: [output(4), output(3)], cursor: 2 });
    const rest = await backend.readOutputs("c1", first.cursor, 10);
    deepStrictEqual(rest, { outputs: [output(2), output(1), output(0)], cursor: 5 });
    deepStrictEqual(await backend.readOutputs("c1", 5, 10), { outputs: [], cursor: 5 });
  },

  "waitOutputs() resolves promptly when an output arrives": async ({ backend }) => {
    await newCall(backend, "c1");
    await backend.enqueue(inputs("c1", 2));
    const [a, b] = await backend.lease("w1", 2, LEASE_MS);
    const waiting = backend.waitOutputs("c1", 0, 10_000);
    await completeLease(backend, a);
    ok(await settlesWithin(waiting, 2_000), "woken by the output");
    ok(await settlesWithin(backend.waitOutputs("c1", 0, 10_000), 2_000), "already past cursor");
    const total = backend.waitOutputs("c1", 1, 10_000);
    await backend.setCallTotal("c1", 2);
    ok(await settlesWithin(total, 2_000), "woken by the total");
    await completeLease(backend, b);
  },

  "waitOutputs() resolves after timeoutMs, or on abort, when nothing arrives": async (
    { backend },
  ) => {
    await newCall(backend, "c1");
    const start = performance.now();
    await backend.waitOutputs("c1", 0, 50);
    ok(performance.now() - start >= 40, "waited for the timeout");
    const abort = new AbortController();
    const waiting = backend.waitOutputs("c1", 0, 10_000, abort.signal);
    abort.abort();
    ok(await settlesWithin(waiting, 2_000), "ended by the abort");
  },

  "waitInputs() resolves when inputs are enqueued": async ({ backend }) => {
    const waiting = backend.waitInputs(10_000);
    await backend.enqueue([input("c1", 0)]);
    ok(await settlesWithin(waiting, 2_000), "woken by enqueue");
    ok(await settlesWithin(backend.waitInputs(10_000), 2_000), "inputs already queued");
    await backend.lease("w1", 1, LEASE_MS);
    const start = performance.now();
    await backend.waitInputs(50);
    ok(performance.now() - start >= 40, "an empty queue waits for the timeout");
  },

  "queueDepth() counts queued, not leased, inputs per function": async ({ backend }) => {
    deepStrictEqual(await backend.queueDepth(), {});
    await backend.enqueue([...inputs("c1", 3), ...inputs("c2", 2, "fn-b")]);
    deepStrictEqual(await backend.queueDepth(), { "fn-a": 3, "fn-b": 2 });
    await backend.lease("w1", 4, LEASE_MS);
    deepStrictEqual(await backend.queueDepth(), { "fn-b": 1 });
    await backend.releaseWorker("w1", MAX_INFRA);
    deepStrictEqual(await backend.queueDepth(), { "fn-a": 3, "fn-b": 2 });
  },

  "publishLogs() numbers batches per app and reaches its subscribers until they unsubscribe":
    async ({ backend }) => {
      const seenA: [Uint8Array, number][] = [];
      const seenOther: Uint8Array[] = [];
      let deliver: (batch: [Uint8Array, number]) => void = () => {};
      const stopA = await backend.subscribeLogs("app-1", (d, seq) => seenA.push([d, seq]));
      const stopB = await backend.subscribeLogs("app-1", (d, seq) => deliver([d, seq]));
      const stopOther = await backend.subscribeLogs("app-2", (d) => seenOther.push(d));
      const next = () => new Promise<[Uint8Array, number]>((r) => deliver = r);
      equal(await backend.logSeq("app-1"), 0);
      let got = next();
      equal(await backend.publishLogs("app-1", new Uint8Array([1, 0, 10])), 1);
      deepStrictEqual(await got, [new Uint8Array([1, 0, 10]), 1]);
      stopA();
      got = next();
      equal(await backend.publishLogs("app-1", new Uint8Array([2])), 2);
      deepStrictEqual(await got, [new Uint8Array([2]), 2]);
      // Messages arrive in order on one subscription, so A would have seen [2] by now.
      deepStrictEqual(seenA, [[new Uint8Array([1, 0, 10]), 1]]);
      deepStrictEqual(seenOther, []);
      equal(await backend.logSeq("app-1"), 2);
      equal(await backend.logSeq("app-2"), 0);
      stopB();
      stopOther();
    },

  "heartbeatWorker(), listWorkers() and removeWorker() track live workers": async (
    { backend },
  ) => {
    const w1 = { workerId: "w1", capacity: 4, runner: "deno", hostname: "a", lastSeenMs: 1 };
    const w2 = { ...w1, workerId: "w2", runner: "docker" };
    await backend.heartbeatWorker(w1);
    await backend.heartbeatWorker(w2);
    await backend.heartbeatWorker({ ...w1, lastSeenMs: 2 });
    const sorted = (await backend.listWorkers()).sort((a, b) =>
      a.workerId.localeCompare(b.workerId)
    );
    deepStrictEqual(sorted, [{ ...w1, lastSeenMs: 2 }, w2]);
    await backend.removeWorker("w1");
    deepStrictEqual(await backend.listWorkers(), [w2]);
  },

  "sweep() forgets calls idle for longer than the retention period": async (
    { backend, clock },
  ) => {
    await newCall(backend, "old");
    await backend.enqueue([input("old", 0)]);
    const [lease] = await backend.lease("w1", 1, LEASE_MS);
    await completeLease(backend, lease);
    clock.advance(RETENTION_MS / 2);
    await newCall(backend, "young");
    clock.advance(RETENTION_MS / 2);
    await backend.sweep(MAX_INFRA);
    equal((await backend.readOutputs("old", 0, 10)).outputs.length, 1, "kept until past retention");
    clock.advance(1);
    await backend.sweep(MAX_INFRA);
    equal(await backend.getCall("old"), undefined);
    deepStrictEqual(await backend.readOutputs("old", 0, 10), { outputs: [], cursor: 0 });
    equal((await backend.getCall("young"))?.callId, "young");
  },
};
