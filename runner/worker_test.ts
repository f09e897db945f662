import assert, { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Code, ConnectError, create } from "../proto/deps.ts";
import { type FunctionDefSchema, WorkerCommandSchema } from "../proto/messages.ts";
import { ResultStatus } from "../proto/messages.ts";
import { fakeControl, FakeWorkStream } from "./_fake_control.ts";
import { type Answer, fakeDef, FakeRunner, type FakeRunnerOptions } from "./_fake_runner.ts";
import { until, WatchedClock } from "./_test_time.ts";
import { HEARTBEAT_MS } from "./_work_stream.ts";
import { CACHE_UPKEEP_EVERY_MS, DRAIN_GRACE_MS, FIRST_BACKOFF_MS, Worker } from "./worker.ts";

type DefInit = Parameters<typeof create<typeof FunctionDefSchema>>[1];

// One cache for the file: the entrypoint is bundled once, on the first worker's start.
const cacheDir = await Deno.makeTempDir({ prefix: "nm-worker-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(cacheDir, { recursive: true }));
const ok1: Answer = { ok: true, ms: 1 };
const boom: Answer = { ok: false, ms: 1, error: { name: "Error", message: "boom", stack: "" } };

/** A worker on a fake control plane, a fake runner and a watched fake clock. */
async function startWorker(runnerOptions: FakeRunnerOptions = {}) {
  const clock = new WatchedClock(0);
  const control = fakeControl();
  const runner = new FakeRunner(runnerOptions);
  const logs: string[] = [];
  const worker = new Worker({
    serverUrl: "http://fake.invalid",
    transport: control.transport,
    runner,
    cacheDir,
    capacity: 4,
    clock,
    log: (line) => logs.push(line),
  });
  const running = worker.run();
  await until(() => control.streams[0]?.sent("credit").length > 0, "the worker's hello");
  return {
    clock,
    control,
    runner,
    worker,
    running,
    logs,
    get stream(): FakeWorkStream {
      return control.streams.at(-1)!;
    },
    assign(def: DefInit, ...inputIds: string[]) {
      this.stream.assign(fakeDef(def), inputIds);
    },
    async [Symbol.asyncDispose]() {
      worker.stop();
      await running;
    },
  };
}

/** Resolves with the first result the server got for `inputId` on the current stream. */
async function resultOf(w: { stream: FakeWorkStream }, inputId: string) {
  await until(() => w.stream.results.some((r) => r.inputId === inputId), `a result for ${inputId}`);
  return FakeWorkStream.output(w.stream.results.find((r) => r.inputId === inputId)!);
}

Deno.test("Worker says hello with its capacity and gives full credit on a new stream", async () => {
  await using w = await startWorker();
  const [hello] = w.stream.sent("hello");
  strictEqual(hello.workerId, w.worker.id);
  strictEqual(hello.capacity, 4);
  deepStrictEqual(w.stream.sent("credit").map((c) => c.count), [4]);
});

Deno.test("Worker fetches a function described ahead of its inputs (a new app's) and starts nothing until one comes", async () => {
  await using w = await startWorker();
  // A bundle of its own: the file's tests share one cache, where a bundle stays once fetched.
  const bundleHash = "1".repeat(64);
  w.stream.assign(fakeDef({}), [], { bundleHash }); // a description, no inputs
  await until(() => w.control.bundles.length === 1, "the bundle fetched ahead");
  strictEqual(w.runner.started.length, 0, "no sandbox for a function without inputs");
  // The first input comes undescribed (the fake control plane refuses GetFunction): it runs.
  w.stream.assign(fakeDef({}), ["in-1"], { described: false });
  (await w.runner.nextRun()).answer(ok1);
  const out = await resultOf(w, "in-1");
  strictEqual(out.status, ResultStatus.SUCCESS);
  deepStrictEqual(w.control.bundles, [bundleHash], "fetched once");
});

Deno.test("Worker starts the first container of a function described with start (a run's app), once, before any input", async () => {
  await using w = await startWorker();
  const bundleHash = "3".repeat(64);
  w.stream.assign(fakeDef({}), [], { bundleHash, start: true });
  await until(() => w.runner.started.length === 1, "a sandbox started with no input");
  // Described again with start (another control plane's word): still one.
  w.stream.assign(fakeDef({}), [], { bundleHash, start: true });
  await new Promise((r) => setTimeout(r, 20));
  strictEqual(w.runner.started.length, 1);
  // Its first input runs in it.
  w.stream.assign(fakeDef({}), ["in-1"], { described: false });
  (await w.runner.nextRun()).answer(ok1);
  strictEqual((await resultOf(w, "in-1")).status, ResultStatus.SUCCESS);
  strictEqual(w.runner.started.length, 1, "no second sandbox");
});

Deno.test("Worker starts no container ahead for a function that mounts a volume (its first call must see the volume as it is then)", async () => {
  await using w = await startWorker();
  const volumes = [{ path: "/data", volumeName: "v" }];
  w.stream.assign(fakeDef({ volumes }), [], { bundleHash: "4".repeat(64), start: true });
  await until(() => w.control.bundles.includes("4".repeat(64)), "the bundle fetched ahead");
  await new Promise((r) => setTimeout(r, 30));
  strictEqual(w.runner.started.length, 0);
});

Deno.test("Worker forgets a prefetched description when its app is superseded (nothing kept per app ever created)", async () => {
  await using w = await startWorker();
  w.stream.assign(fakeDef({}), [], { bundleHash: "2".repeat(64) });
  await until(() => w.control.bundles.length === 1, "the bundle fetched ahead");
  w.stream.commands.push(
    create(WorkerCommandSchema, {
      msg: { case: "appStopped", value: { appId: "ap-test0000", drain: true } },
    }),
  );
  await new Promise((r) => setTimeout(r, 20));
  // A late input of the old version, undescribed: the worker must ask (GetFunction), which the
  // fake refuses, so it fails.
  w.stream.assign(fakeDef({}), ["in-1"], { described: false });
  const out = await resultOf(w, "in-1");
  ok(out.status !== ResultStatus.SUCCESS, "the description was forgotten");
  strictEqual(w.runner.started.length, 0);
});

Deno.test("Worker retries a failing input with exponential backoff on its clock", async () => {
  await using w = await startWorker();
  const retries = { maxRetries: 2, initialDelayMs: 700, backoffCoefficient: 3, maxDelayMs: 60_000 };
  w.assign({ retries }, "in-1");
  (await w.runner.nextRun()).answer(boom);
  for (const delayMs of [700, 2_100]) {
    const startedMs = w.clock.now();
    let next = false;
    const run = w.runner.nextRun().then((r) => (next = true, r));
    await w.clock.timerStarted(delayMs);
    await w.clock.tick(delayMs - 1);
    strictEqual(next, false, `no attempt before ${delayMs} ms of backoff`);
    await w.clock.tick(1);
    const attempt = await run;
    strictEqual(w.clock.now() - startedMs, delayMs);
    attempt.answer(delayMs === 700 ? boom : ok1);
  }
  strictEqual((await resultOf(w, "in-1")).status, ResultStatus.SUCCESS);
});

Deno.test("Worker gives up after maxRetries and reports the last failure", async () => {
  await using w = await startWorker({ autoAnswer: () => boom });
  w.assign({
    retries: { maxRetries: 1, initialDelayMs: 300, backoffCoefficient: 2, maxDelayMs: 9_000 },
  }, "in-1");
  await w.clock.timerStarted(300);
  await w.clock.tick(300);
  const output = await resultOf(w, "in-1");
  strictEqual(output.status, ResultStatus.FAILURE);
  strictEqual(output.error?.message, "boom");
});

Deno.test("Worker fails an input past its timeoutMs with FunctionTimeoutError and kills its sandbox", async () => {
  await using w = await startWorker();
  w.assign({ timeoutMs: 3_000 }, "in-1");
  const run = await w.runner.nextRun();
  await w.clock.timerStarted(3_000);
  await w.clock.tick(2_999);
  strictEqual(run.sandbox.ended, false);
  await w.clock.tick(1);
  const output = await resultOf(w, "in-1");
  strictEqual(output.status, ResultStatus.TIMEOUT);
  strictEqual(output.error?.name, "FunctionTimeoutError");
  ok(output.error?.message.includes("timed out after 3000 ms"), output.error?.message);
  strictEqual(run.sandbox.ended, true);
});

Deno.test("Worker renews the leases of the inputs in hand with a heartbeat every HEARTBEAT_MS", async () => {
  await using w = await startWorker();
  w.assign({}, "in-1");
  const run = await w.runner.nextRun();
  // One as the stream opens: the control plane counts the worker's containers from the start.
  strictEqual(w.stream.sent("heartbeat").length, 1);
  await w.clock.tick(HEARTBEAT_MS - 1);
  strictEqual(w.stream.sent("heartbeat").length, 1);
  await w.clock.tick(1);
  await until(() => w.stream.sent("heartbeat").length === 2, "a heartbeat");
  deepStrictEqual(w.stream.sent("heartbeat")[1].inputIds, ["in-1"]);
  run.answer(ok1);
  await resultOf(w, "in-1");
  await w.clock.tick(HEARTBEAT_MS);
  await until(() => w.stream.sent("heartbeat").length === 3, "a second heartbeat");
  deepStrictEqual(w.stream.sent("heartbeat")[2].inputIds, []);
});

Deno.test("Worker reconnects with doubling backoff and sends unacknowledged results again", async () => {
  await using w = await startWorker({ autoAnswer: () => ok1 });
  w.assign({}, "in-1");
  await resultOf(w, "in-1");
  const lost = () => new ConnectError("the server went away", Code.Unavailable);
  for (const [i, backoffMs] of [[1, FIRST_BACKOFF_MS], [2, 2 * FIRST_BACKOFF_MS]]) {
    const since = w.clock.requested.length;
    w.stream.commands.close(lost());
    await w.clock.timerStarted(backoffMs, since);
    await w.clock.tick(backoffMs - 1);
    strictEqual(w.control.streams.length, i, `no new stream before ${backoffMs} ms`);
    await w.clock.tick(1);
    await until(() => w.control.streams.length === i + 1, `stream ${i + 1}`);
  }
  ok(w.logs.some((l) => l.includes("lost the server")), w.logs.join("\n"));
  // Never acknowledged: the result goes out again on the new stream.
  strictEqual((await resultOf(w, "in-1")).status, ResultStatus.SUCCESS);
  w.stream.ack(1);
  w.assign({}, "in-2");
  await resultOf(w, "in-2");
  ok(w.logs.some((l) => l.includes("reconnected")), w.logs.join("\n"));
});

Deno.test("Worker stops a sandbox idle past its scaledownWindowMs", async () => {
  await using w = await startWorker({ autoAnswer: () => ok1 });
  w.assign({ scaledownWindowMs: 30_000 }, "in-1");
  await resultOf(w, "in-1");
  const [sandbox] = w.runner.started;
  await w.clock.tick(29_000);
  strictEqual(sandbox.ended, false);
  await w.clock.tick(1_000);
  await until(() => sandbox.ended, "the idle sandbox to stop");
});

Deno.test("Worker.drain() finishes the inputs in hand and ends run() once the server stored them", async () => {
  await using w = await startWorker();
  w.assign({}, "in-1");
  const run = await w.runner.nextRun();
  const drained = w.worker.drain();
  await until(() => w.stream.sent("drain").length === 1, "a drain message");
  run.answer(ok1);
  await resultOf(w, "in-1");
  let ended = false;
  w.running.then(() => ended = true);
  await w.clock.tick(1);
  strictEqual(ended, false, "run() waits for the server to store the result");
  w.stream.ack(1);
  await drained;
  await w.running;
  deepStrictEqual(w.stream.sent("credit").map((c) => c.count), [4]);
});

Deno.test("Worker.drain() leaves after DRAIN_GRACE_MS when the server never confirms", async () => {
  await using w = await startWorker({ autoAnswer: () => ok1 });
  w.assign({}, "in-1");
  await resultOf(w, "in-1");
  let ended = false;
  const drained = w.worker.drain().then(() => ended = true);
  await w.clock.timerStarted(DRAIN_GRACE_MS);
  await w.clock.tick(DRAIN_GRACE_MS - 1);
  strictEqual(ended, false);
  await w.clock.tick(1);
  await drained;
  await w.running;
});

Deno.test("Worker serves while it still clears dead workers' leftovers, and stops if that fails", async () => {
  const clearing = Promise.withResolvers<void>();
  {
    await using w = await startWorker({ cleanup: () => clearing.promise });
    w.assign({}, "in-1");
    (await w.runner.nextRun()).answer(ok1);
    strictEqual((await resultOf(w, "in-1")).status, ResultStatus.SUCCESS);
    clearing.resolve();
  }
  const worker = new Worker({
    serverUrl: "http://fake.invalid",
    transport: fakeControl().transport,
    runner: new FakeRunner({ cleanup: () => Promise.reject(new Error("no /sys/fs/cgroup")) }),
    cacheDir,
    capacity: 4,
    clock: new WatchedClock(0),
    log: () => {},
  });
  await assert.rejects(worker.run(), /no \/sys\/fs\/cgroup/);
});

Deno.test("Worker keeps the bundles it runs from marked as used, and prunes the cache of the rest", async () => {
  await using w = await startWorker({ autoAnswer: () => ok1 });
  w.assign({}, "in-1");
  await resultOf(w, "in-1");
  // The fake control plane's functions all run bundle 00…0.
  const inUse = `${cacheDir}/bundles/${"0".repeat(64)}.js`;
  const stale = `${cacheDir}/bundles/${"f".repeat(64)}.js`;
  await Deno.writeTextFile(stale, "old");
  const weekAgo = (Date.now() - 8 * 86_400_000) / 1000;
  for (const f of [inUse, stale]) await Deno.utime(f, weekAgo, weekAgo);
  await Deno.remove(`${cacheDir}/.pruned`).catch(() => {});
  await w.clock.tick(CACHE_UPKEEP_EVERY_MS);
  const listed = () => Array.from(Deno.readDirSync(`${cacheDir}/bundles`), (e) => e.name);
  await until(() => !listed().includes(`${"f".repeat(64)}.js`), "the stale bundle to be pruned");
  ok(Date.now() - (await Deno.stat(inUse)).mtime!.getTime() < 60_000, "the bundle in use was kept");
});
