// Draining and restarts with real worker processes: a worker drained in the middle of its
// inputs loses none and runs none twice; a restarted autoscaler adopts the workers it finds.
import { ok, strictEqual } from "node:assert/strict";
import { check, CliProcess, MAIN, runCli, startServe } from "./_cli.ts";
import { autoscalerArgs, expectSlowMap, status, until } from "./_autoscale_helpers.ts";
import { ProcessDriver } from "../autoscale/mod.ts";
import { systemClock } from "../proto/clock.ts";

Deno.test("a worker drained mid-input finishes what it holds: nothing lost, nothing run twice", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nm-autoscale-drain-" });
  const server = await startServe();
  const driver = new ProcessDriver({
    spec: { serverUrl: server.url, concurrency: 4, runner: "deno", graceSeconds: 60 },
    stateDir: `${tmp}/state`,
    clock: systemClock,
    command: [Deno.execPath(), "run", "-A", MAIN],
    env: { NANO_MODAL_CACHE: `${tmp}/cache` },
  });
  try {
    await driver.start(2);
    await until("both workers register", async () => {
      return (await status(server.url)).workers.length === 2;
    });
    const run = runCli(
      ["run", "--server", server.url, "tests/fixtures/slow_map.ts", "--", "24", "1500"],
      { timeoutMs: 120_000 },
    );
    await until("both workers hold inputs", async () => {
      return (await status(server.url)).workers.filter((w) => w.busy > 0).length === 2;
    });
    const [victim] = await driver.list();
    const victimWorker = (await status(server.url)).workers.find((w) =>
      driver.matches(victim, { workerId: w.id, hostname: w.host, capacity: 0, busy: 0 })
    );
    ok(victimWorker && victimWorker.busy > 0, "the drained worker holds inputs");
    await driver.stop([victim]);
    await until("the drained worker leaves", async () => {
      return !(await status(server.url)).workers.some((w) => w.id === victimWorker!.id);
    }, 30_000);
    const r = await run;
    check(r.code === 0, "the map finishes on the remaining worker", r);
    expectSlowMap(r.stdout, 24);
    strictEqual((await driver.list()).length, 1);
  } finally {
    await driver.stopAll();
    await server.proc.stop();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
});

Deno.test("an autoscaler restarted mid-run adopts the workers it finds instead of starting more", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nm-autoscale-adopt-" });
  const server = await startServe();
  const args = autoscalerArgs(server.url, {
    min: 1,
    max: 3,
    extra: ["--state-dir", `${tmp}/state`],
  });
  const env = { NANO_MODAL_CACHE: `${tmp}/cache` };
  let scaler = new CliProcess(args, { env });
  const pidFiles = () =>
    [...Deno.readDirSync(`${tmp}/state`)].filter((e) => e.name.endsWith(".pid")).length;
  try {
    const run = runCli(
      ["run", "--server", server.url, "tests/fixtures/slow_map.ts", "--", "60", "1000"],
      { timeoutMs: 120_000 },
    );
    await until(
      "three workers serve the backlog",
      async () => {
        return (await status(server.url)).workers.length === 3;
      },
      60_000,
      () => scaler.stderr,
    );
    // Stopped without --stop-workers-on-exit: its workers keep serving.
    strictEqual(await scaler.stop("SIGTERM"), 0);
    scaler = new CliProcess(args, { env });
    await scaler.waitFor(/adopted 3 running/);
    // Several ticks with a backlog still waiting: nothing new may start.
    await new Promise((r) => setTimeout(r, 2_000));
    const s = await status(server.url);
    strictEqual(s.workers.length, 3, `no duplicate workers:\n${scaler.stderr}`);
    strictEqual(pidFiles(), 3);
    ok(!/scale up/.test(scaler.stderr), scaler.stderr);
    const r = await run;
    check(r.code === 0, "the map finishes", r);
    expectSlowMap(r.stdout, 60);
  } finally {
    await scaler.stop("SIGTERM");
    // The last autoscaler drains whatever is left.
    const cleanup = new CliProcess([...args, "--stop-workers-on-exit"], { env });
    await cleanup.waitFor(/following/);
    await cleanup.stop("SIGTERM");
    strictEqual(pidFiles(), 0, "no worker left behind");
    await server.proc.stop();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
});
