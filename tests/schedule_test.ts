// End-to-end: a deployed app's everyMs schedule on one control plane (embedded store, deno
// runner), and on two control planes sharing one Redis.
import { ok } from "node:assert/strict";
import { check, ROOT, runCli, startServe } from "./_cli.ts";
import { startRedis } from "./_redis_server.ts";

/** `createdMs` of every call recorded in the Redis store (`nm:call:<id>` hashes). */
async function callTimes(port: number): Promise<number[]> {
  const lua = "local t = {} for _, k in ipairs(redis.call('KEYS', ARGV[1])) do " +
    "t[#t + 1] = redis.call('HGET', k, 'createdMs') end return t";
  const out = await new Deno.Command("redis-cli", {
    args: ["-p", `${port}`, "--no-raw", "EVAL", lua, "0", "nm:call:*"],
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  return [...text.matchAll(/"(\d+)"/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
}

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
    // The calls' creation times, as the control planes recorded them (the runs themselves may
    // start late, bunched behind a container's cold start). Every claim is of the latest tick,
    // the second it is made in, so one call a tick means one call per second of creation
    // (one more for a call whose creation crossed into the next second); two planes each
    // running every tick would give two.
    const created = await callTimes(redis.port);
    const distinct = new Set(created.map((ms) => Math.floor(ms / 1_000))).size;
    ok(created.length >= 3, `at least 3 calls, got ${created.length}: ${created}`);
    ok(created.length <= distinct + 1, `one call a tick, got ${created.length}: ${created}`);
    ok(created.length <= seconds + 2, `${created.length} calls in ${seconds} s: ${created}`);
    ok(runs.length <= created.length, `each call ran at most once: ${runs}; ${created}`);
    const seen = await tickRuns(b.url, env);
    ok(seen.length === runs.length, `both planes show the same runs (${runs}; ${seen})`);
  } finally {
    await Promise.all([a.proc.stop(), b.proc.stop()]);
    await redis.stop();
  }
});
