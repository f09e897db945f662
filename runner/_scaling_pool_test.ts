import { strictEqual } from "node:assert/strict";
import { FakeRunner } from "./_fake_runner.ts";
import { makePool } from "./_fake_pool.ts";
import { until, WatchedClock } from "./_test_time.ts";

const args = new Uint8Array();

Deno.test("FunctionPool.warm() starts minContainers before any input and scale-down keeps them", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using p = await makePool(runner, clock, {
    minContainers: 2,
    maxContainers: 4,
    scaledownWindowMs: 1_000,
  });
  p.pool.warm();
  await until(() => p.pool.size === 2, "two minContainers sandboxes");
  strictEqual(runner.started.length, 2);
  await clock.tick(10_000);
  await p.pool.scaleDown();
  strictEqual(p.pool.size, 2);
});

Deno.test("FunctionPool keeps bufferContainers idle beside busy ones, then scales them down", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using p = await makePool(runner, clock, {
    concurrency: 1,
    bufferContainers: 2,
    maxContainers: 10,
    scaledownWindowMs: 1_000,
  });
  const a = p.pool.run("in-a", args);
  const runA = await runner.nextRun();
  // One busy sandbox: two more start warm at once, with no backlog waiting.
  await until(() => p.pool.size === 3, "busy + buffer sandboxes");
  strictEqual(p.pool.counts().busy, 1);
  strictEqual(p.pool.counts().idle, 2);
  runA.answer({ ok: true, ms: 1 });
  await a;
  await clock.tick(1_000);
  await p.pool.scaleDown();
  strictEqual(p.pool.size, 0);
});

Deno.test("FunctionPool's buffer never takes it past maxContainers", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using p = await makePool(runner, clock, {
    concurrency: 1,
    bufferContainers: 5,
    maxContainers: 2,
  });
  const a = p.pool.run("in-a", args);
  const runA = await runner.nextRun();
  await until(() => p.pool.size === 2, "max sandboxes");
  await clock.tick(1_000);
  strictEqual(runner.started.length, 2);
  runA.answer({ ok: true, ms: 1 });
  await a;
});
