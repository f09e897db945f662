import { ok, rejects, strictEqual } from "node:assert/strict";
import { FakeRunner } from "./_fake_runner.ts";
import { SCALE_UP_AFTER_MS } from "./_pool.ts";
import { makePool } from "./_fake_pool.ts";
import { until, WatchedClock } from "./_test_time.ts";
import { Resources } from "./_resources.ts";

const args = new Uint8Array();

Deno.test("FunctionPool starts a second sandbox only once a backlog has waited SCALE_UP_AFTER_MS", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using p = await makePool(runner, clock, { concurrency: 1, maxContainers: 2 });
  const a = p.pool.run("in-a", args);
  const runA = await runner.nextRun();
  const b = p.pool.run("in-b", args);
  await clock.timerStarted(SCALE_UP_AFTER_MS);
  await clock.tick(SCALE_UP_AFTER_MS - 1);
  strictEqual(runner.started.length, 1);
  await clock.tick(1);
  const runB = await runner.nextRun();
  strictEqual(runner.started.length, 2);
  ok(runB.sandbox !== runA.sandbox);
  runA.answer({ ok: true, ms: 1 });
  runB.answer({ ok: true, ms: 1 });
  strictEqual((await a).id, "in-a");
  strictEqual((await b).id, "in-b");
});

Deno.test("FunctionPool gives a freed slot to a waiting input instead of starting a sandbox", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using p = await makePool(runner, clock, { concurrency: 1, maxContainers: 2 });
  const a = p.pool.run("in-a", args);
  (await runner.nextRun()).answer({ ok: true, ms: 1 });
  await a;
  const b = p.pool.run("in-b", args);
  (await runner.nextRun()).answer({ ok: true, ms: 1 });
  await b;
  await clock.tick(10 * SCALE_UP_AFTER_MS);
  strictEqual(runner.started.length, 1);
});

Deno.test("FunctionPool.scaleDown() stops sandboxes idle past scaledownWindowMs", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner({ autoAnswer: () => ({ ok: true, ms: 1 }) });
  await using p = await makePool(runner, clock, { scaledownWindowMs: 30_000 });
  await p.pool.run("in-a", args);
  strictEqual(p.pool.size, 1);
  await clock.tick(29_999);
  await p.pool.scaleDown();
  strictEqual(p.pool.size, 1);
  await clock.tick(1);
  await p.pool.scaleDown();
  strictEqual(p.pool.size, 0);
  strictEqual(runner.started[0].ended, true);
});

Deno.test("FunctionPool.scaleDown() keeps minContainers warm, starting them if needed", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using p = await makePool(runner, clock, {
    minContainers: 1,
    maxContainers: 2,
    scaledownWindowMs: 1_000,
  });
  await p.pool.scaleDown();
  await until(() => p.pool.size === 1, "a minContainers sandbox");
  const both = Promise.all([p.pool.run("in-a", args), p.pool.run("in-b", args)]);
  const runA = await runner.nextRun();
  await clock.tick(SCALE_UP_AFTER_MS);
  const runB = await runner.nextRun();
  strictEqual(p.pool.size, 2);
  runA.answer({ ok: true, ms: 1 });
  runB.answer({ ok: true, ms: 1 });
  await both;
  await clock.tick(5_000);
  await p.pool.scaleDown();
  strictEqual(p.pool.size, 1);
  strictEqual(runner.alive, 1);
});

Deno.test("FunctionPool fails waiting inputs when every sandbox start fails", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner({ failStart: new Error("no such image") });
  await using p = await makePool(runner, clock);
  await rejects(p.pool.run("in-a", args), /no such image/);
});

Deno.test("FunctionPool.close() fails inputs still waiting for a slot", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner({ hang: true });
  await using p = await makePool(runner, clock);
  const waiting = p.pool.run("in-a", args);
  await until(() => runner.started.length === 1, "a sandbox start");
  await p.pool.close();
  await rejects(waiting, /app stopped/);
});

Deno.test("FunctionPool queues a window of inputs at a sandbox once its function proves fast, and none when slow", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using p = await makePool(runner, clock, { concurrency: 1, maxContainers: 1 });
  const first = p.pool.run("in-0", args);
  const run0 = await runner.nextRun();
  strictEqual(run0.message.max, 1, "the sandbox is told to run one at a time");
  const second = p.pool.run("in-1", args);
  await clock.tick(0);
  run0.answer({ ok: true, ms: 0.01 }); // fast: a window opens
  await first;
  const run1 = await runner.nextRun();
  const more = Array.from({ length: 5 }, (_, i) => p.pool.run(`in-${i + 2}`, args));
  const queued = [];
  for (let i = 0; i < 5; i++) queued.push(await runner.nextRun());
  strictEqual(queued.length, 5, "five more inputs sent while one is still running");
  run1.answer({ ok: true, ms: 500 }); // now slow: the window closes
  await second;
  for (const r of queued) r.answer({ ok: true, ms: 500 });
  await Promise.all(more);
  const a = p.pool.run("in-a", args);
  const b = p.pool.run("in-b", args);
  const runA = await runner.nextRun();
  const nextB = runner.nextRun();
  const early = await Promise.race([
    nextB.then(() => "sent"),
    new Promise((r) => setTimeout(() => r("held"), 100)),
  ]);
  strictEqual(early, "held", "a slow function's next input waits at the worker");
  runA.answer({ ok: true, ms: 500 });
  (await nextB).answer({ ok: true, ms: 500 });
  await Promise.all([a, b]);
});

Deno.test("a sandbox dying with a queued window fails only the running input with its fault; queued ones are re-run", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using p = await makePool(runner, clock, { concurrency: 1, maxContainers: 1 });
  const warm = p.pool.run("in-0", args);
  (await runner.nextRun()).answer({ ok: true, ms: 0.01 });
  await warm;
  const runs = ["in-1", "in-2", "in-3"].map((id) => p.pool.run(id, args).catch((e) => e));
  for (let i = 0; i < 3; i++) await runner.nextRun();
  runner.started[0].exit({ code: 137, signal: "SIGKILL", oom: true });
  const [running, q1, q2] = await Promise.all(runs);
  ok(running.oom, "the running input ran out of memory");
  ok(!q1.oom && !q2.oom, "queued inputs are not blamed");
  ok(/before the input started/.test(q1.message));
});

Deno.test("placement: on 2 cores, cpu 1 sandboxes stop at 2, scale-up starts what fits at once, and freed room wakes waiting pools", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  const resources = new Resources({ cpu: 2, memoryMiB: 4096 });
  await using p = await makePool(runner, clock, {
    concurrency: 1,
    maxContainers: 16,
    cpu: 1,
    memoryMib: 512,
  }, resources);
  const runs = Array.from({ length: 6 }, (_, i) => p.pool.run(`in-${i}`, args));
  const first = await runner.nextRun();
  await clock.timerStarted(SCALE_UP_AFTER_MS);
  await clock.tick(SCALE_UP_AFTER_MS);
  const second = await runner.nextRun();
  await until(() => runner.started.length === 2);
  await clock.tick(SCALE_UP_AFTER_MS * 10);
  strictEqual(runner.started.length, 2, "never more cores reserved than the worker has");
  strictEqual(resources.reserved.cpu, 2);
  // Another function's pool on the same worker gets its first sandbox anyway (forced)...
  await using other = await makePool(
    runner,
    clock,
    { concurrency: 1, maxContainers: 4, cpu: 1 },
    resources,
  );
  const o1 = other.pool.run("other-1", args);
  const o2 = other.pool.run("other-2", args);
  const otherRun = await runner.nextRun();
  strictEqual(runner.started.length, 3, "a function's first sandbox always starts");
  strictEqual(resources.reserved.cpu, 3);
  // ...and its second only once room is freed (within STALL_MS: a stalled pool may go over).
  await clock.tick(SCALE_UP_AFTER_MS * 5);
  strictEqual(runner.started.length, 3);
  otherRun.answer({ ok: true, ms: 1 });
  (await runner.nextRun()).answer({ ok: true, ms: 1 });
  await Promise.all([o1, o2]);
  await other.pool.close();
  strictEqual(resources.reserved.cpu, 2, "a closed pool gives its room back");
  first.answer({ ok: true, ms: 30 });
  second.answer({ ok: true, ms: 30 });
  for (let i = 2; i < 6; i++) (await runner.nextRun()).answer({ ok: true, ms: 30 });
  await Promise.all(runs);
  strictEqual(runner.started.length, 3);
});

Deno.test("placement: a stopped sandbox frees its room and a waiting pool scales up into it", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  const resources = new Resources({ cpu: 1, memoryMiB: 4096 });
  await using a = await makePool(runner, clock, {
    concurrency: 1,
    maxContainers: 4,
    cpu: 0.5,
    scaledownWindowMs: 1_000,
  }, resources);
  await using b = await makePool(
    runner,
    clock,
    { concurrency: 1, maxContainers: 4, cpu: 0.5 },
    resources,
  );
  const ra = a.pool.run("a-1", args);
  (await runner.nextRun()).answer({ ok: true, ms: 1 });
  await ra;
  const b1 = b.pool.run("b-1", args);
  const b2 = b.pool.run("b-2", args);
  const runB1 = await runner.nextRun();
  await clock.tick(SCALE_UP_AFTER_MS * 5);
  strictEqual(runner.started.length, 2, "the worker's one core is reserved: b waits");
  await clock.tick(1_000);
  await a.pool.scaleDown(); // a's idle sandbox stops: b gets its room
  await clock.tick(SCALE_UP_AFTER_MS);
  const runB2 = await runner.nextRun();
  strictEqual(runner.started.length, 3);
  ok(runB2.sandbox !== runB1.sandbox);
  runB1.answer({ ok: true, ms: 1 });
  runB2.answer({ ok: true, ms: 1 });
  await Promise.all([b1, b2]);
});

Deno.test("FunctionPool runs inputs in arrival order: a newcomer never takes a slot before those waiting", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using p = await makePool(runner, clock, { concurrency: 1, maxContainers: 1 });
  // Slow inputs (200 ms each): no window, one at a time in the one sandbox.
  const a = p.pool.run("in-a", args);
  const b = p.pool.run("in-b", args);
  const runA = await runner.nextRun();
  strictEqual(runA.message.id, "in-a");
  runA.answer({ ok: true, ms: 200 });
  await a;
  const c = p.pool.run("in-c", args); // arrives while in-b runs
  const runB = await runner.nextRun();
  strictEqual(runB.message.id, "in-b");
  runB.answer({ ok: true, ms: 200 });
  const runC = await runner.nextRun();
  strictEqual(runC.message.id, "in-c");
  runC.answer({ ok: true, ms: 200 });
  await Promise.all([b, c]);
});

Deno.test("FunctionPool queues a deep window behind a microsecond function, in order", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using p = await makePool(runner, clock, { concurrency: 1, maxContainers: 1 });
  const first = p.pool.run("in-0", args);
  (await runner.nextRun()).answer({ ok: true, ms: 0.01 });
  await first;
  strictEqual(p.pool.slots, 1 + 500, "about 5 ms of 0.01 ms inputs queued");
  const runs = Array.from({ length: 100 }, (_, i) => p.pool.run(`in-${i + 1}`, args));
  for (let i = 1; i <= 100; i++) {
    const run = await runner.nextRun();
    strictEqual(run.message.id, `in-${i}`);
    run.answer({ ok: true, ms: 0.01 });
  }
  await Promise.all(runs);
  strictEqual(runner.started.length, 1, "one pipelined sandbox");
});

Deno.test("a web endpoint's requests never queue at a busy sandbox, however fast they run", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  await using p = await makePool(runner, clock, { concurrency: 1, maxContainers: 2, web: {} });
  for (let i = 0; i < 20; i++) {
    const r = p.pool.run(`fast-${i}`, args);
    (await runner.nextRun()).answer({ ok: true, ms: 0.01 });
    await r;
  }
  strictEqual(p.pool.slots, 1, "no window for a web endpoint");
  // One request streams for as long as its client likes; the next must not wait behind it.
  const held = p.pool.run("held", args);
  const heldRun = await runner.nextRun();
  const next = p.pool.run("next", args);
  await clock.tick(SCALE_UP_AFTER_MS);
  const nextRun = await runner.nextRun();
  strictEqual(nextRun.message.id, "next");
  strictEqual(runner.started.length, 2, "the next request went to a second sandbox");
  nextRun.answer({ ok: true, ms: 0.01 });
  await next;
  heldRun.answer({ ok: true, ms: 0.01 });
  await held;
});
