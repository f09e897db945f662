// Placement that never deadlocks: release-while-nested and the stall rule, with fake time.
import { ok, strictEqual } from "node:assert/strict";
import { FakeRunner } from "./_fake_runner.ts";
import { type FunctionPool, SCALE_UP_AFTER_MS } from "./_pool.ts";
import { makePool } from "./_fake_pool.ts";
import { until, WatchedClock } from "./_test_time.ts";
import { Resources } from "./_resources.ts";
import { STALL_MS } from "./_scale_up.ts";
import { Parking } from "./_parking.ts";

const args = new Uint8Array();
const oneCore = () => new Resources({ cpu: 1, memoryMiB: 4096 });
const def = { concurrency: 1, maxContainers: 8, cpu: 1, memoryMib: 128 };

Deno.test("Parking parks when every running input waits on nested calls, and unparks when one runs", async () => {
  let running = 2;
  const seen: boolean[] = [];
  const parking = new Parking(() => running);
  parking.onChange = (parked) => seen.push(parked);
  const a = Promise.withResolvers<void>(), b = Promise.withResolvers<void>();
  parking.track("in-a", a.promise);
  strictEqual(parking.parked, false, "in-b still runs");
  parking.track("in-b", b.promise);
  strictEqual(parking.parked, true);
  a.resolve();
  await a.promise;
  await Promise.resolve();
  strictEqual(parking.parked, false, "in-a's call returned: it runs again");
  running = 1;
  parking.finished("in-a");
  strictEqual(parking.parked, true, "in-a finished; in-b, the only one running, waits");
  running = 2;
  parking.settle();
  strictEqual(parking.parked, false, "a new input started");
  running = 1;
  parking.settle();
  strictEqual(parking.parked, true);
  running = 0;
  parking.finished("in-b");
  strictEqual(parking.parked, false, "nothing runs: an idle sandbox is not parked");
  b.resolve();
  await b.promise;
  await Promise.resolve();
  strictEqual(parking.parked, false, "a call left behind by a finished input holds nothing");
  strictEqual(seen.join(), "true,false,true,false,true,false");
});

Deno.test("a sandbox waiting on a nested call gives its core back, so the call gets a sandbox on a full worker", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  const resources = oneCore();
  const calls: PromiseWithResolvers<Record<string, unknown>>[] = [];
  await using p = await makePool(runner, clock, def, resources, () => {
    calls.push(Promise.withResolvers());
    return calls.at(-1)!.promise;
  });
  const parent = p.pool.run("parent", args);
  const parentRun = await runner.nextRun();
  strictEqual(resources.reserved.cpu, 1, "the one core is reserved");
  // The parent calls its own function: the call waits on the parent's sandbox's core.
  const reply = parentRun.nested("call");
  await until(() => calls.length === 1);
  strictEqual(resources.reserved.cpu, 0, "parked: its core is given back");
  const child = p.pool.run("child", args);
  await clock.timerStarted(SCALE_UP_AFTER_MS);
  await clock.tick(SCALE_UP_AFTER_MS);
  const childRun = await runner.nextRun();
  strictEqual(runner.started.length, 2, "the child got a sandbox of its own");
  ok(childRun.sandbox !== parentRun.sandbox);
  strictEqual(resources.reserved.cpu, 1);
  childRun.answer({ ok: true, ms: 1 });
  await child;
  calls[0].resolve({ ok: true });
  await reply;
  strictEqual(resources.reserved.cpu, 2, "unparked: takes its core again, over, stopping nothing");
  strictEqual(runner.alive, 2);
  // Over capacity, a backlog starts nothing new (under STALL_MS) until room is freed.
  const more = [p.pool.run("m-1", args), p.pool.run("m-2", args), p.pool.run("m-3", args)];
  const m1 = await runner.nextRun();
  await clock.tick(SCALE_UP_AFTER_MS * 5);
  strictEqual(runner.started.length, 2);
  parentRun.answer({ ok: true, ms: 1 });
  m1.answer({ ok: true, ms: 1 });
  for (let i = 0; i < 2; i++) (await runner.nextRun()).answer({ ok: true, ms: 1 });
  await Promise.all([parent, ...more]);
  strictEqual(runner.started.length, 2);
});

Deno.test("recursive nested calls eight deep all get sandboxes on a one-core worker, without the stall rule", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  const resources = oneCore();
  const p: { pool?: FunctionPool } = {};
  let n = 0;
  // Each level's call runs the next level through the pool, as the control plane would.
  const onNested = async () => {
    const id = `level-${++n}`;
    await p.pool!.run(id, args);
    return { ok: true };
  };
  await using made = await makePool(runner, clock, def, resources, onNested);
  p.pool = made.pool;
  const top = made.pool.run("level-0", args);
  const runs = [await runner.nextRun()];
  for (let depth = 1; depth <= 7; depth++) {
    const reply = runs.at(-1)!.nested("call");
    await clock.timerStarted(SCALE_UP_AFTER_MS, clock.requested.length);
    await clock.tick(SCALE_UP_AFTER_MS);
    runs.push(await runner.nextRun());
    strictEqual(runner.started.length, depth + 1);
    ok(clock.now() < STALL_MS, "progress came from parking, not from the stall rule");
    void reply;
  }
  strictEqual(resources.reserved.cpu, 1, "only the deepest level holds the core");
  for (const run of runs.reverse()) run.answer({ ok: true, ms: 1 });
  await top;
});

Deno.test("a stalled pool (inputs waiting on each other, not on nested calls) starts one more sandbox every STALL_MS", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  const resources = oneCore();
  await using p = await makePool(runner, clock, def, resources);
  const runs = Array.from({ length: 3 }, (_, i) => p.pool.run(`barrier-${i}`, args));
  const first = await runner.nextRun();
  await clock.tick(STALL_MS - 1);
  strictEqual(runner.started.length, 1, "nothing fits: the backlog waits");
  await clock.tick(1);
  const second = await runner.nextRun();
  strictEqual(runner.started.length, 2, "no input finished for STALL_MS: one more starts");
  await clock.tick(STALL_MS);
  const third = await runner.nextRun();
  strictEqual(runner.started.length, 3);
  for (const r of [first, second, third]) r.answer({ ok: true, ms: 1 });
  await Promise.all(runs);
});

Deno.test("a pool whose inputs keep finishing stays within the worker's cores", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  const resources = oneCore();
  await using p = await makePool(runner, clock, def, resources);
  const runs = Array.from({ length: 12 }, (_, i) => p.pool.run(`cpu-${i}`, args));
  for (let i = 0; i < 12; i++) {
    const run = await runner.nextRun();
    await clock.tick(STALL_MS / 2);
    run.answer({ ok: true, ms: STALL_MS / 2 });
  }
  await Promise.all(runs);
  strictEqual(runner.started.length, 1, "one core, one cpu-1 sandbox");
});

Deno.test("a fast function that makes nested calls gets no queued window: its call never waits behind its caller", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  const calls: PromiseWithResolvers<Record<string, unknown>>[] = [];
  await using p = await makePool(runner, clock, def, undefined, () => {
    calls.push(Promise.withResolvers());
    return calls.at(-1)!.promise;
  });
  // Proven fast: the pool would now queue a window of inputs at its sandbox.
  for (let i = 0; i < 3; i++) {
    const r = p.pool.run(`fast-${i}`, args);
    (await runner.nextRun()).answer({ ok: true, ms: 0.5 });
    await r;
  }
  const parent = p.pool.run("parent", args);
  const parentRun = await runner.nextRun();
  const reply = parentRun.nested("call");
  await until(() => calls.length === 1);
  const child = p.pool.run("child", args);
  await clock.tick(SCALE_UP_AFTER_MS);
  const childRun = await runner.nextRun();
  ok(childRun.sandbox !== parentRun.sandbox, "not queued behind the parent that waits on it");
  childRun.answer({ ok: true, ms: 0.5 });
  await child;
  calls[0].resolve({});
  await reply;
  parentRun.answer({ ok: true, ms: 1 });
  await parent;
});
