import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { fakeDef, FakeRunner } from "./_fake_runner.ts";
import { syncMarker } from "./_protocol.ts";
import { until, WatchedClock } from "./_test_time.ts";
import { LOGS_GRACE_MS } from "../proto/logs_before_result.ts";
import { EXIT_GRACE_MS, START_TIMEOUT_MS, WarmSandbox } from "./_warm_sandbox.ts";
import { SandboxDiedError, SandboxStartError } from "./errors.ts";

async function startWarm(runner: FakeRunner, clock: WatchedClock, printed: string[] = []) {
  const rootDir = await Deno.makeTempDir({ prefix: "nm-warm-" });
  const warm = WarmSandbox.start(runner, {
    sandboxId: `sb-${crypto.randomUUID().slice(0, 8)}`,
    appId: "ap-test",
    appName: "test",
    functionName: "echo",
    def: fakeDef(),
    bundlePath: "/nonexistent/bundle.js",
    entrypointPath: "/nonexistent/entrypoint.js",
    onOutput: (fd, text) => printed.push(`${fd}:${text}`),
  }, { rootDir, clock });
  return { warm, rootDir };
}

Deno.test("WarmSandbox.start() gives up on a sandbox that does not connect within START_TIMEOUT_MS", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner({ hang: true });
  const { warm, rootDir } = await startWarm(runner, clock);
  const failed = rejects(warm, (err) => {
    ok(err instanceof SandboxStartError, String(err));
    ok(/did not start within 120 s/.test(err.message), err.message);
    return true;
  });
  await clock.timerStarted(START_TIMEOUT_MS);
  await clock.tick(START_TIMEOUT_MS - 1);
  strictEqual(runner.started[0].ended, false);
  await clock.tick(1);
  await failed;
  strictEqual(runner.started[0].ended, true);
  await Deno.remove(rootDir, { recursive: true });
});

Deno.test("WarmSandbox holds a result until the output printed before it is out, for at most LOGS_GRACE_MS", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  const printed: string[] = [];
  const { warm: starting, rootDir } = await startWarm(runner, clock, printed);
  const warm = await starting;

  // Markers on both streams: the result goes at once, the markers never reach the caller.
  const first = warm.run("in-1", new Uint8Array(), { fn: "echo" });
  const run1 = await runner.nextRun();
  run1.sandbox.print(1, `hello\n${syncMarker(1)}`);
  run1.sandbox.print(2, syncMarker(1));
  run1.answer({ ok: true, ms: 1, sync: 1 });
  strictEqual((await first).id, "in-1");
  deepStrictEqual(printed, ["1:hello\n"]);

  // A marker that never arrives on stderr: the result waits out the grace, no longer.
  let settled = false;
  const second = warm.run("in-2", new Uint8Array(), { fn: "echo" }).then((
    d,
  ) => (settled = true, d));
  const run2 = await runner.nextRun();
  run2.sandbox.print(1, syncMarker(2));
  const since = clock.requested.length;
  run2.answer({ ok: true, ms: 1, sync: 2 });
  await clock.timerStarted(LOGS_GRACE_MS, since);
  await clock.tick(LOGS_GRACE_MS - 1);
  strictEqual(settled, false);
  await clock.tick(1);
  strictEqual((await second).id, "in-2");
  await warm.stop();
  await Deno.remove(rootDir, { recursive: true });
});

Deno.test("WarmSandbox records when it last went idle on its clock", async () => {
  const clock = new WatchedClock(5_000);
  const runner = new FakeRunner({ autoAnswer: () => ({ ok: true, ms: 1 }) });
  const { warm: starting, rootDir } = await startWarm(runner, clock);
  const warm = await starting;
  strictEqual(warm.idleSinceMs, 5_000);
  await clock.tick(7_000);
  await warm.run("in-1", new Uint8Array(), { fn: "echo" });
  strictEqual(warm.idleSinceMs, 12_000);
  await warm.stop();
  await Deno.remove(rootDir, { recursive: true });
});

Deno.test("WarmSandbox fails its inputs with SandboxDiedError when the sandbox exits", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  const { warm: starting, rootDir } = await startWarm(runner, clock);
  const warm = await starting;
  const running = warm.run("in-1", new Uint8Array(), { fn: "echo" });
  const run = await runner.nextRun();
  run.sandbox.exit({ code: 3, signal: null, oom: false });
  await rejects(running, (err) => {
    ok(err instanceof SandboxDiedError);
    strictEqual(err.message, "The sandbox exited with code 3");
    return true;
  });
  strictEqual(warm.alive, false);
  await warm.stop();
  await Deno.remove(rootDir, { recursive: true });
});

Deno.test("WarmSandbox counts a sandbox that closed its socket as dead after EXIT_GRACE_MS", async () => {
  const clock = new WatchedClock(0);
  const runner = new FakeRunner();
  const { warm: starting, rootDir } = await startWarm(runner, clock);
  const warm = await starting;
  const running = warm.run("in-1", new Uint8Array(), { fn: "echo" });
  running.catch(() => {});
  const run = await runner.nextRun();
  run.sandbox.disconnect();
  await clock.timerStarted(EXIT_GRACE_MS);
  await clock.tick(EXIT_GRACE_MS - 1);
  strictEqual(warm.alive, true);
  await clock.tick(1);
  await until(() => !warm.alive, "the sandbox to count as dead");
  await rejects(running, /closed its connection/);
  strictEqual(run.sandbox.ended, true);
  await warm.stop();
  await Deno.remove(rootDir, { recursive: true });
});
