import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { create } from "../proto/deps.ts";
import { sha256Hex } from "../proto/content_hash.ts";
import {
  type WorkAssign,
  type WorkerCommand,
  type WorkerMessage,
  WorkerMessageSchema,
} from "../proto/messages.ts";
import { AsyncQueue } from "../proto/async_queue.ts";
import {
  LEASE_MS,
  type ServiceFixture,
  serviceFixture,
  SWEEP_MS,
  testFunctionDef,
  until,
} from "./_service_fixture.ts";

type Init = NonNullable<Parameters<typeof create<typeof WorkerMessageSchema>>[1]>;

/** One worker's Work stream, driven by hand. */
class FakeWorker {
  readonly out = new AsyncQueue<WorkerMessage>();
  /** Every command read so far, in order. */
  readonly seen: WorkerCommand[] = [];
  readonly #commands: AsyncIterator<WorkerCommand>;

  constructor(f: ServiceFixture, workerId: string) {
    this.send({ case: "hello", value: { workerId, capacity: 4, runner: "deno", hostname: "h" } });
    this.#commands = f.worker.work(this.out)[Symbol.asyncIterator]();
  }

  send(msg: Init["msg"]): void {
    this.out.push(create(WorkerMessageSchema, { msg } as Init));
  }

  async nextAssign(): Promise<WorkAssign> {
    for (let r = await this.#commands.next(); !r.done; r = await this.#commands.next()) {
      this.seen.push(r.value);
      if (r.value.msg.case === "assign") return r.value.msg.value;
    }
    throw new Error("stream ended without an assignment");
  }

  /** Reads commands until the stream ends; resolves with the error it ended with, if any. */
  async ended(): Promise<unknown> {
    try {
      while (!(await this.#commands.next()).done);
    } catch (err) {
      return err;
    }
  }

  async close(): Promise<void> {
    this.out.close();
    while (!(await this.#commands.next()).done);
  }
}

/** Stores an empty bundle on the server; returns its hash. */
async function putTinyBundle(f: ServiceFixture): Promise<string> {
  const code = new TextEncoder().encode("export {};");
  const hash = await sha256Hex(code);
  await f.control.putBundle({ hash, data: code });
  return hash;
}

Deno.test("a new app's functions are described to connected workers before any input, once", async () => {
  const f = await serviceFixture();
  const w = new FakeWorker(f, "w1");
  try {
    const hash = await putTinyBundle(f);
    const { functionIds } = await f.control.createApp({
      name: "fresh",
      bundleHash: hash,
      ephemeral: true,
      functions: [testFunctionDef("cube")],
    });
    const ahead = await w.nextAssign();
    equal(ahead.inputs.length, 0, "no inputs: a description ahead of them");
    deepStrictEqual(Object.keys(ahead.functions), [functionIds.cube]);
    equal(ahead.functions[functionIds.cube].bundleHash, hash);
    // Its first input comes without the description: the worker has it already.
    await f.control.spawn({ functionId: functionIds.cube, args: new Uint8Array([2]) });
    w.send({ case: "credit", value: { count: 1 } });
    const assign = await w.nextAssign();
    equal(assign.inputs.length, 1);
    deepStrictEqual(Object.keys(assign.functions), []);
  } finally {
    await w.close();
    await f.close();
  }
});

Deno.test("a run's new app: the worker with room is asked to start its functions without volumes, under an allowance", async () => {
  const f = await serviceFixture();
  const w = new FakeWorker(f, "w1");
  try {
    const hash = await putTinyBundle(f);
    const def = (name: string, more = {}) => testFunctionDef(name, { maxContainers: 2, ...more });
    w.send({ case: "credit", value: { count: 4 } });
    // A heartbeat after the credit: once its figures are stored, the credit was read too.
    w.send({
      case: "heartbeat",
      value: { inputIds: [], figures: { "containers_fn:fu-probe": 1 } },
    });
    await until(async () =>
      (await f.store.workers.list()).some((r) => r.containers?.["fu-probe"] === 1)
    );
    const app = (ephemeral: boolean) =>
      f.control.createApp({
        name: ephemeral ? "run-app" : "deployed",
        bundleHash: hash,
        ephemeral,
        functions: [def("plain"), def("vol", { volumes: [{ path: "/data", volumeName: "v" }] })],
      });
    const { functionIds } = await app(true);
    const described = await w.nextAssign();
    equal(described.start, false, "every function described at once, as for any app");
    deepStrictEqual(Object.keys(described.functions).sort(), Object.values(functionIds).sort());
    const started = await w.nextAssign();
    equal(started.start, true);
    deepStrictEqual(
      Object.keys(started.functions),
      [functionIds.plain],
      "a function with a volume waits for its first input",
    );
    const allowance = w.seen.findLast((c) => c.msg.case === "allowance");
    equal(
      allowance?.msg.case === "allowance" && allowance.msg.value.containers[functionIds.plain],
      1,
      "an allowance of one came first",
    );
    const deployed = await app(false);
    const ahead = await w.nextAssign();
    equal(ahead.start, false, "a deployed app starts nothing");
    deepStrictEqual(
      Object.keys(ahead.functions).sort(),
      Object.values(deployed.functionIds).sort(),
    );
  } finally {
    await w.close();
    await f.close();
  }
});

async function spawn(f: ServiceFixture): Promise<string> {
  return (await f.control.spawn({ functionId: f.functionId, args: new Uint8Array([7]) })).callId;
}

Deno.test("an input whose worker goes silent is requeued by the sweep once its lease expires", async () => {
  const f = await serviceFixture();
  const silent = new FakeWorker(f, "w1");
  const other = new FakeWorker(f, "w2");
  try {
    const started = performance.now();
    const callId = await spawn(f);
    silent.send({ case: "credit", value: { count: 1 } });
    const [leased] = (await silent.nextAssign()).inputs;
    equal(leased.callId, callId);
    equal(leased.infraAttempt, 0);
    deepStrictEqual(await f.store.queue.depth(), {});
    await f.clock.tick(SWEEP_MS);
    deepStrictEqual(await f.store.queue.depth(), { [f.functionId]: 1 }, "expired and requeued");
    other.send({ case: "credit", value: { count: 1 } });
    const [again] = (await other.nextAssign()).inputs;
    equal(again.inputId, leased.inputId);
    equal(again.infraAttempt, 1);
    ok(performance.now() - started < 1_000, "fake time, milliseconds of real time");
  } finally {
    await silent.close();
    await other.close();
    await f.close();
  }
});

Deno.test("heartbeats keep a lease alive past its expiry", async () => {
  const f = await serviceFixture();
  const worker = new FakeWorker(f, "w1");
  try {
    await spawn(f);
    worker.send({ case: "credit", value: { count: 1 } });
    const [leased] = (await worker.nextAssign()).inputs;
    for (let elapsed = 0; elapsed < 2 * SWEEP_MS; elapsed += LEASE_MS / 2) {
      worker.send({ case: "heartbeat", value: { inputIds: [leased.inputId] } });
      // The heartbeat is handled once the worker's record carries the current time.
      await until(async () => (await f.store.workers.list())[0]?.lastSeenMs === f.clock.now());
      await f.clock.tick(LEASE_MS / 2);
    }
    deepStrictEqual(await f.store.queue.depth(), {}, "never requeued");
  } finally {
    await worker.close();
    await f.close();
  }
});

Deno.test("a worker that leaves has its leases requeued and is forgotten", async () => {
  const f = await serviceFixture();
  const leaving = new FakeWorker(f, "w1");
  try {
    await spawn(f);
    leaving.send({ case: "credit", value: { count: 1 } });
    await leaving.nextAssign();
    equal((await f.store.workers.list()).length, 1);
    await leaving.close();
    await until(async () => (await f.store.queue.depth())[f.functionId] === 1);
    deepStrictEqual(await f.store.workers.list(), []);
  } finally {
    await f.close();
  }
});

Deno.test("inputs leased ahead of a fast worker's credit go back uncounted when it drains", async () => {
  const f = await serviceFixture();
  const fast = new FakeWorker(f, "w1");
  const other = new FakeWorker(f, "w2");
  try {
    const n = 30;
    for (let i = 0; i < n; i++) await spawn(f);
    let assigned = 0;
    for (let i = 0; i < 20; i++) {
      fast.send({ case: "credit", value: { count: 1 } });
      assigned += (await fast.nextAssign()).inputs.length;
      f.clock.advance(5); // one input every 5 ms: fast enough to lease ahead
    }
    equal(assigned, 20);
    const queued = async () => (await f.store.queue.depth())[f.functionId] ?? 0;
    await until(async () => (await queued()) === n - assigned - 4); // capacity 4 ahead
    fast.send({ case: "drain", value: {} });
    await until(async () => (await queued()) === n - assigned);
    other.send({ case: "credit", value: { count: n } });
    const rest = (await other.nextAssign()).inputs;
    equal(rest.length, n - assigned);
    deepStrictEqual(rest.map((i) => i.infraAttempt), rest.map(() => 0), "no attempt counted");
  } finally {
    await fast.close();
    await other.close();
    await f.close();
  }
});

// A worker whose stream stays open must still see it end when the store fails, or it never
// reconnects: the leaser used to die silently (no more inputs, ever), and the response
// waited for the worker's next message before ending.
for (
  const [what, breakStore, poke] of [
    [
      "leasing",
      (f: ServiceFixture) => f.store.queue.lease = () => Promise.reject(new Error("store away")),
      (w: FakeWorker) => w.send({ case: "credit", value: { count: 1 } }),
    ],
    [
      "storing results",
      (f: ServiceFixture) => f.store.queue.complete = () => Promise.reject(new Error("store away")),
      (w: FakeWorker) =>
        w.send({
          case: "results",
          value: {
            results: [{ inputId: "in-1", leaseToken: "t", idx: 0, output: new Uint8Array([1]) }],
          },
        }),
    ],
  ] as const
) {
  Deno.test(`a store failure while ${what} ends the worker's stream with it, though the worker's side stays open`, async () => {
    const f = await serviceFixture();
    const worker = new FakeWorker(f, "w1");
    try {
      await spawn(f);
      breakStore(f);
      poke(worker);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stillOpen = new Promise((r) =>
        timer = setTimeout(() => r("still open after 5 s"), 5_000)
      );
      const err = await Promise.race([worker.ended(), stillOpen]);
      clearTimeout(timer);
      // The store's own message stays on the server; the worker sees an internal error.
      ok(err instanceof Error && /internal/.test(err.message), `ended with ${err}`);
    } finally {
      worker.out.close();
      await f.close();
    }
  });
}
