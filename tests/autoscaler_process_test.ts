// The process driver end to end: a real control plane, the real autoscaler CLI starting
// `nano-modal worker` child processes, and a backlog of slow inputs from `nano-modal run`.
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { check, CliProcess, runCli, startServe } from "./_cli.ts";
import {
  autoscalerArgs,
  expectSlowMap,
  status,
  until,
  watchWorkers,
} from "./_autoscale_helpers.ts";

Deno.test("status explains an unreachable server in one line", async () => {
  const r = await runCli(["status", "--server", "http://127.0.0.1:9"]);
  strictEqual(r.code, 1);
  ok(
    /^error: Cannot reach the control plane at http:\/\/127.0.0.1:9 .*pass --server\n$/.test(
      r.stderr,
    ),
    r.stderr,
  );
});

Deno.test("a backlog of slow inputs takes the process driver from 1 worker to at least 3, and idle brings it back to 1", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nm-autoscale-process-" });
  const server = await startServe();
  const scaler = new CliProcess(
    autoscalerArgs(server.url, {
      min: 1,
      max: 4,
      idleMs: 2000,
      extra: ["--state-dir", `${tmp}/state`, "--stop-workers-on-exit"],
    }),
    { env: { NANO_MODAL_CACHE: `${tmp}/cache` } },
  );
  const detail = () => `autoscaler:\n${scaler.stderr}`;
  try {
    await until(
      "the first worker registers",
      async () => {
        return (await status(server.url)).workers.length === 1;
      },
      60_000,
      detail,
    );
    // 48 inputs of 1 s, 4 at a time per worker: 12 s on one worker.
    const run = runCli([
      "run",
      "--server",
      server.url,
      "tests/fixtures/slow_map.ts",
      "--",
      "48",
      "1000",
    ], {
      timeoutMs: 120_000,
    });
    const watch = watchWorkers(server.url);
    // `status --json` mid-run: one object with workers, functions and apps, as documented.
    await until("inputs wait", async () => {
      return (await status(server.url)).functions.some((f) => f.queued > 0 || f.running > 0);
    });
    const json = await runCli(["status", "--json", "--server", server.url]);
    check(json.code === 0, "status --json", json);
    const view = JSON.parse(json.stdout);
    deepStrictEqual(Object.keys(view).sort(), ["apps", "functions", "workers"]);
    ok(view.workers.length >= 1 && typeof view.workers[0].busy === "number", json.stdout);
    deepStrictEqual(
      Object.keys(view.workers[0]).sort(),
      ["busy", "capacity", "host", "id", "lastHeartbeatMs", "runner"],
    );
    const fn = view.functions.find((f: { function: string }) => f.function === "slow");
    ok(fn && fn.app === "slow-map" && fn.queued + fn.running > 0, json.stdout);
    ok(
      view.apps.some((a: { name: string; kind: string; state: string }) =>
        a.name === "slow-map" && a.kind === "ephemeral" && a.state === "running"
      ),
      json.stdout,
    );
    const human = await runCli(["status", "--server", server.url]);
    check(human.code === 0 && /^Workers \(\d+\)/.test(human.stdout), "status", human);
    ok(/slow-map\s+slow\s+\d+\s+\d+/.test(human.stdout), human.stdout);
    const r = await run;
    const { workers: mostWorkers, busy: mostBusy } = await watch.stop();
    check(r.code === 0, "the map finishes", r);
    expectSlowMap(r.stdout, 48);
    ok(mostWorkers >= 3, `at least 3 workers at the peak, saw ${mostWorkers}\n${detail()}`);
    ok(mostBusy >= 3, `at least 3 workers took inputs, saw ${mostBusy}\n${detail()}`);
    // Several at once: the first scale-up went from 1 to more than 2.
    const firstUp = scaler.stderr.match(/scale up 1 → (\d+) workers/);
    ok(firstUp && Number(firstUp[1]) >= 3, `one step from 1 to 3 or more\n${detail()}`);
    await until(
      "idle workers drain back to 1",
      async () => {
        return (await status(server.url)).workers.length === 1;
      },
      60_000,
      detail,
    );
    ok(/scale down \d → 1 workers \(\d workers? idle/.test(scaler.stderr), detail());
  } finally {
    strictEqual(await scaler.stop("SIGTERM"), 0);
    await server.proc.stop();
  }
  // --stop-workers-on-exit drained the last one: no pid file, no worker process left.
  const left = [...Deno.readDirSync(`${tmp}/state`)].filter((e) => e.name.endsWith(".pid"));
  strictEqual(left.length, 0, "no worker left behind");
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
});

Deno.test("autoscaler flags that make no sense get one line saying what to do", async () => {
  const cases: [string[], RegExp][] = [
    [["--min", "1"], /needs --max N/],
    [["--min", "3", "--max", "2"], /--min 3 is above --max 2/],
    [["--max", "2", "--driver", "k8s"], /--driver must be process, docker or swarm, got "k8s"/],
    [["--max", "2", "--idle-ms", "soon"], /--idle-ms must be a whole number/],
  ];
  for (const [args, expected] of cases) {
    const r = await runCli(["autoscaler", "--server", "http://127.0.0.1:9", ...args]);
    strictEqual(r.code, 1, r.stderr);
    ok(expected.test(r.stderr) && r.stderr.trim().split("\n").length === 1, r.stderr);
  }
});
