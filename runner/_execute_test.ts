import { ok, strictEqual } from "node:assert/strict";
import { ResultStatus } from "../proto/messages.ts";
import { Deadlines } from "./_deadlines.ts";
import { attempt, execute, type Outcome } from "./_execute.ts";
import { type Answer, fakeDef, FakeRunner } from "./_fake_runner.ts";
import { FunctionPool } from "./_pool.ts";
import { WatchedClock } from "./_test_time.ts";

const boom: Answer = { ok: false, ms: 1, error: { name: "TypeError", message: "boom", stack: "" } };

async function setup(runner: FakeRunner, clock: WatchedClock) {
  const rootDir = await Deno.makeTempDir({ prefix: "nm-execute-" });
  const def = fakeDef({
    timeoutMs: 1_000,
    retries: { maxRetries: 3, initialDelayMs: 500, backoffCoefficient: 2, maxDelayMs: 5_000 },
  });
  const pool = new FunctionPool({
    functionId: "fu-test",
    appId: "ap-test0000",
    appName: "test",
    def,
    bundlePath: "/nonexistent/bundle.js",
    entrypointPath: "/nonexistent/entrypoint.js",
    rootDir,
    onOutput: () => {},
  }, { runner, clock });
  return {
    fn: { appId: "ap-test0000", def, pool },
    deadlines: new Deadlines(clock),
    async [Symbol.asyncDispose]() {
      await pool.close();
      await Deno.remove(rootDir, { recursive: true });
    },
  };
}

const input = { inputId: "in-1", idx: 7, args: new Uint8Array() };

Deno.test("execute() starts no retry once the worker stops during the backoff", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner({ autoAnswer: () => boom });
  await using s = await setup(runner, clock);
  const stop = new AbortController();
  const outcome = execute(s.fn, input, { deadlines: s.deadlines, clock, signal: stop.signal });
  await clock.timerStarted(500);
  stop.abort();
  const output = await outcome;
  ok(output !== "requeue");
  strictEqual(output.status, ResultStatus.FAILURE);
  strictEqual(output.idx, 7);
  strictEqual(output.error?.name, "TypeError");
  strictEqual(clock.now(), 0);
});

Deno.test("execute() retries a timed-out attempt and reports the timeout when retries run out", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using s = await setup(runner, clock);
  const outcome = execute(s.fn, input, {
    deadlines: s.deadlines,
    clock,
    signal: new AbortController().signal,
  });
  // Four attempts of 1 s each, with 0.5, 1 and 2 s of backoff between them.
  for (const backoffMs of [0, 500, 1_000, 2_000]) {
    await clock.tick(backoffMs);
    await runner.nextRun();
    await clock.tick(1_000);
  }
  const output = await outcome;
  ok(output !== "requeue");
  strictEqual(output.status, ResultStatus.TIMEOUT);
  strictEqual(output.error?.name, "FunctionTimeoutError");
  strictEqual(clock.now(), 7_500);
  strictEqual(runner.started.length, 4, "each timeout killed its sandbox");
});

Deno.test("execute() leaves an input whose sandbox died to the infrastructure retries", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using s = await setup(runner, clock);
  const signal = new AbortController().signal;
  const outcome = execute(s.fn, input, { deadlines: s.deadlines, clock, signal });
  (await runner.nextRun()).sandbox.exit({ code: 137, signal: null, oom: false });
  strictEqual(await outcome, "requeue");
});

Deno.test("attempt() fails the input, once, when its pool throws instead of taking it", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner({ autoAnswer: () => ({ ok: true, ms: 1 }) });
  await using s = await setup(runner, clock);
  // A pool that tells the input it started, then throws: the input must end exactly once.
  const broken = Object.create(s.fn.pool) as FunctionPool;
  broken.start = (_id, _args, events) => {
    events.failed(new Error("first"));
    throw new Error("the pool broke");
  };
  const outcomes: Outcome[] = [];
  attempt({ ...s.fn, pool: broken }, input, s.deadlines, (o) => outcomes.push(o));
  strictEqual(outcomes.length, 1);
  const [out] = outcomes;
  ok(out !== "requeue" && out.status === ResultStatus.INTERNAL_FAILURE, JSON.stringify(out));
  strictEqual(s.deadlines.size, 0);
});
