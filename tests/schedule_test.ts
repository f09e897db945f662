// End-to-end: a deployed app's everyMs schedule on one control plane (embedded store, deno
// runner), and on two control planes sharing one Redis.
import { ok } from "node:assert/strict";
import { check, ROOT, runCli, startServe } from "./_cli.ts";
import { startRedis } from "./_redis_server.ts";

async function tickRuns(url: string, env: Record<string, string>): Promise<number[]> {
  const logs = await runCli(["app", "logs", "--server", url, "schedapp"], { env });
  check(logs.code === 0, "app logs succeeds", logs);
  return logs.stdout.split("\n").filter((l) => l.includes("tick-run")).map((l) =>
    Number(l.match(/tick-run (\d+)/)![1])
  );
}

Deno.test("a deployed everyMs schedule runs once per tick, and app stop ends it", async () => {
  const env = { NANO_MODAL_TOKEN: "schedule-test-token-0123456789" };
  const { proc, url } = await startServe(["--with-workers", "1", "--runner", "deno"], { env });
  try {
    const deployed = await runCli(
      ["deploy", "--server", url, `${ROOT}tests/fixtures/schedule_app.ts`],
      { env },
    );
    check(deployed.code === 0, "deploy succeeds", deployed);
    await new Promise((r) => setTimeout(r, 5_500));
    const stopped = await runCli(["app", "stop", "--server", url, "schedapp"], { env });
    check(stopped.code === 0, "app stop succeeds", stopped);
    const logs = await runCli(["app", "logs", "--server", url, "schedapp"], { env });
    const runs = logs.stdout.split("\n").filter((l) => l.includes("tick-run")).map((l) =>
      Number(l.match(/tick-run (\d+)/)![1])
    );
    // 5.5 s after deploy: the first tick after the scheduler saw it, then one a second; at
    // most one run per tick (the scheduler polls every second, so runs may start late).
    ok(runs.length >= 3 && runs.length <= 6, `3 to 6 runs, got ${runs.length}: ${logs.stdout}`);
    await new Promise((r) => setTimeout(r, 2_000));
    const after = await runCli(["app", "logs", "--server", url, "schedapp"], { env });
    const later = after.stdout.split("\n").filter((l) => l.includes("tick-run")).length;
    ok(later <= runs.length + 1, `no runs after app stop (${runs.length} then ${later})`);
  } finally {
    await proc.stop();
  }
});

Deno.test("two control planes on one Redis: N ticks of an everyMs schedule give N runs, not 2N", async () => {
  const env = { NANO_MODAL_TOKEN: "schedule-test-token-0123456789" };
  const redis = await startRedis();
  const a = await startServe(["--redis", redis.url, "--with-workers", "1", "--runner", "deno"], {
    env,
  });
  const b = await startServe(["--redis", redis.url], { env });
  try {
    const deployed = await runCli(
      ["deploy", "--server", b.url, `${ROOT}tests/fixtures/schedule_app.ts`],
      { env },
    );
    check(deployed.code === 0, "deploy succeeds", deployed);
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 5_500));
    const stopped = await runCli(["app", "stop", "--server", a.url, "schedapp"], { env });
    check(stopped.code === 0, "app stop succeeds", stopped);
    const seconds = (Date.now() - started) / 1_000;
    // Let runs already queued finish, then count them.
    await new Promise((r) => setTimeout(r, 1_500));
    const runs = await tickRuns(a.url, env);
    // One run a tick: the runs (each logs when it ran) are about a second apart, so N runs span
    // about N - 1 seconds; two planes each running every tick would give twice as many.
    const span = (Math.max(...runs) - Math.min(...runs)) / 1_000;
    ok(runs.length >= 3, `at least 3 runs, got ${runs.length}: ${runs}`);
    ok(runs.length <= span + 1.6, `one run a tick: ${runs.length} runs over ${span} s: ${runs}`);
    ok(runs.length <= seconds + 2, `${runs.length} runs in ${seconds} s: ${runs}`);
    const seen = await tickRuns(b.url, env);
    ok(seen.length === runs.length, `both planes show the same runs (${runs}; ${seen})`);
  } finally {
    await Promise.all([a.proc.stop(), b.proc.stop()]);
    await redis.stop();
  }
});
