// End-to-end: a deployed app's everyMs schedule on one control plane (embedded store, deno runner).
import { ok } from "node:assert/strict";
import { check, ROOT, runCli, startServe } from "./_cli.ts";

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
