/**
 * Redis benchmark: `.map` of 20,000 trivial inputs through `serve --redis` and
 * one remote worker, against BullMQ running the same trivial job on the same
 * Redis in the same run. Reports inputs/s (of a new app's first map, the goal's
 * figure, and of the same app's second map, warm like BullMQ's measured rounds;
 * medians of RUNS apps and RUNS rounds) and Redis commands per input (from
 * `INFO commandstats`, Lua-internal calls included).
 */
import { startRedis } from "../tests/mod.ts";
import type { Row } from "./_table.ts";
import { cpuTicks, redisCpuSeconds, TreeCpu } from "./_proc.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const N = 20_000;
/**
 * Measured runs on each side (new apps on ours, rounds on BullMQ's): a figure is their
 * median, since one map on these machines varies by ±15% from run to run.
 */
const RUNS = 3;

/** The median of some numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function redisCli(port: number, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-p", String(port), ...args],
    stdout: "piped",
  })
    .output();
  return new TextDecoder().decode(out.stdout);
}

/** Total commands Redis ran since the last CONFIG RESETSTAT, minus the INFO itself. */
async function commandCount(port: number): Promise<number> {
  const info = await redisCli(port, "INFO", "commandstats");
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) {
    if (m[1] !== "info" && m[1] !== "config") total += Number(m[2]);
  }
  return total;
}

function spawn(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function waitForLine(child: Deno.ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`process exited before ${pattern}: ${text}`);
    text += value;
    const m = text.match(pattern);
    if (m) {
      // Keep draining so the child never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* discard */ }
      })();
      return m;
    }
  }
}

/** What a benchmark child printed last: its times, and the CPU it says it used (seconds). */
interface ChildFigures {
  ms: number;
  all: number[];
  cpuS?: number;
  redisS?: number;
}

async function lastJson(child: Deno.ChildProcess): Promise<ChildFigures> {
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (out.code !== 0) {
    throw new Error(`benchmark child failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const j = JSON.parse(text);
  const all: number[] = Array.isArray(j.ms) ? j.ms : [j.ms];
  return { ms: all[0], all, cpuS: j.cpuS, redisS: j.redisS };
}

/** CPU seconds a process has used so far (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  return (cpuTicks(pid) ?? 0) / 100;
}

/** What one nano-modal map measured: its rate, Redis commands and CPU per input. */
interface MapFigures {
  rate: number;
  /** The rate of a second map of the same app in the same run (defaults only). */
  again?: number;
  perInput: number;
  /** Microseconds of CPU per input in the control plane and in the worker (not its sandboxes). */
  serveUs: number;
  workerUs: number;
  /** Microseconds of CPU per input in the worker's sandboxes, the client and Redis (defaults only). */
  sandboxUs?: number;
  clientUs?: number;
  redisUs?: number;
}

async function nanoModal(
  url: string,
  port: number,
  tuned: boolean,
): Promise<MapFigures> {
  const serve = spawn(["run", "-A", "main.ts", "serve", "--port", "0", "--redis", url]);
  const [, serverUrl] = await waitForLine(serve, /listening on (http:\/\/\S+)/);
  const cache = await Deno.makeTempDir({ prefix: "nm-bench-" });
  const worker = spawn(
    [
      "run",
      "-A",
      "main.ts",
      "worker",
      "--server",
      serverUrl,
      "--runner",
      "deno",
      ...(tuned ? ["--concurrency", "4096"] : []),
    ],
    { NANO_MODAL_CACHE: cache },
  );
  try {
    await waitForLine(worker, /serving/);
    // The defaults app maps `rounds` times in one run (one app): the first map is a new app's.
    const runMap = (n: number, rounds = 1) =>
      lastJson(
        spawn([
          "run",
          "-A",
          "main.ts",
          "run",
          "--server",
          serverUrl,
          tuned ? "bench/_map_app.ts" : "bench/_defaults_app.ts",
          "--",
          ...(tuned ? [] : ["map"]),
          `${n}`,
          ...(tuned ? [] : [`${rounds}`]),
        ]),
      );
    // Warm up with a full-size map first (caches, JIT), as the BullMQ side does.
    await runMap(N);
    await redisCli(port, "CONFIG", "RESETSTAT");
    const cpu0 = [cpuSeconds(serve.pid), cpuSeconds(worker.pid)];
    const redis0 = await redisCpuSeconds(port);
    // The worker with its sandboxes (which its own CPU figure leaves out).
    const workerTree = new TreeCpu([worker.pid]);
    // Defaults: RUNS new apps, each a new app's map then a second map of the same app (warm,
    // like BullMQ's measured rounds); CPU and commands count over all of them.
    const rounds = tuned ? 1 : 2;
    const runs = tuned ? 1 : RUNS;
    const first: number[] = [], second: number[] = [];
    let clientS: number | undefined;
    for (let r = 0; r < runs; r++) {
      const { all, cpuS } = await runMap(N, rounds);
      first.push(all[0]);
      if (all[1] !== undefined) second.push(all[1]);
      if (cpuS !== undefined) clientS = (clientS ?? 0) + cpuS;
    }
    const treeS = workerTree.stop();
    const redisS = await redisCpuSeconds(port) - redis0;
    const cpu1 = [cpuSeconds(serve.pid), cpuSeconds(worker.pid)];
    const maps = N * rounds * runs;
    const commands = await commandCount(port);
    // The client's bundling and start-up happen in the serve and worker processes too (the
    // app is put, the function fetched): that is part of a map's cost, so it counts.
    const us = (i: number) => ((cpu1[i] - cpu0[i]) * 1e6) / maps;
    return {
      rate: N / (median(first) / 1000),
      again: second.length ? N / (median(second) / 1000) : undefined,
      perInput: commands / maps,
      serveUs: us(0),
      workerUs: us(1),
      // The worker's tree less the worker: its sandboxes (and a spare started meanwhile).
      sandboxUs: (treeS * 1e6) / maps - us(1),
      clientUs: clientS === undefined ? undefined : (clientS * 1e6) / maps,
      redisUs: (redisS * 1e6) / maps,
    };
  } finally {
    for (const p of [worker, serve]) {
      p.kill("SIGTERM");
      await p.status;
    }
    await Deno.remove(cache, { recursive: true });
  }
}

/** BullMQ's figures: its rate, Redis commands and CPU (its process, Redis) per job. */
interface BullFigures {
  rate: number;
  perInput: number;
  processUs: number;
  redisUs: number;
}

async function bullmq(url: string, port: number): Promise<BullFigures> {
  await redisCli(port, "FLUSHALL");
  await redisCli(port, "CONFIG", "RESETSTAT");
  const j = await lastJson(
    spawn(["run", "-A", "bench/_bullmq_job.ts", url, String(N), String(RUNS)]),
  );
  const jobs = N * j.all.length;
  const commands = await commandCount(port);
  return {
    rate: N / (median(j.all) / 1000),
    perInput: commands / jobs,
    processUs: (j.cpuS! * 1e6) / jobs,
    redisUs: (j.redisS! * 1e6) / jobs,
  };
}

/** Runs the Redis benchmark and returns its rows. */
export async function redisBench(): Promise<Row[]> {
  const redis = await startRedis();
  try {
    const nm = await nanoModal(redis.url, redis.port, false);
    await redisCli(redis.port, "FLUSHALL");
    const tuned = await nanoModal(redis.url, redis.port, true);
    await redisCli(redis.port, "FLUSHALL");
    const bull = await bullmq(redis.url, redis.port);
    const fmt = (n: number) => `${Math.round(n).toLocaleString("en-US")} inputs/s`;
    return [
      {
        name: `.map of ${
          N.toLocaleString("en-US")
        } trivial inputs, serve --redis + 1 worker, defaults (a new app's first map, median of ${RUNS} apps)`,
        value: fmt(nm.rate),
        baseline: `BullMQ, concurrency 50: ${fmt(bull.rate)} (median of ${RUNS} rounds)`,
        ratio: `${(nm.rate / bull.rate).toFixed(1)}×`,
        goal: "≥ 2×",
      },
      {
        name:
          "  the same apps' second maps (warm, median; BullMQ's rounds are after a warm-up too)",
        value: nm.again === undefined ? "n/a" : fmt(nm.again),
        baseline: `BullMQ ${fmt(bull.rate)}`,
        ratio: nm.again === undefined ? "" : `${(nm.again / bull.rate).toFixed(1)}×`,
      },
      {
        name: "TUNED (concurrency 1000 / --concurrency 4096): same map",
        value: fmt(tuned.rate),
        baseline: `commands per input ${tuned.perInput.toFixed(2)}`,
      },
      {
        name: "CPU per input (defaults): control plane / worker",
        value: `${nm.serveUs.toFixed(0)} µs / ${nm.workerUs.toFixed(0)} µs`,
        baseline: `tuned: ${tuned.serveUs.toFixed(0)} µs / ${tuned.workerUs.toFixed(0)} µs`,
      },
      cpuRow(nm, bull),
      {
        name: "Redis commands per input (defaults)",
        value: nm.perInput.toFixed(2),
        baseline: `BullMQ: ${bull.perInput.toFixed(1)} per job`,
        ratio: `${(nm.perInput / bull.perInput).toFixed(2)}×`,
        goal: "≤ 3",
      },
    ];
  } finally {
    await redis.stop();
  }
}

/**
 * CPU per input of every process on each side. Both sides keep the machine's
 * two cores busy, so a rate is about 2 cores over this figure: 2× BullMQ's
 * rate needs about half its CPU per job.
 */
function cpuRow(nm: MapFigures, bull: BullFigures): Row {
  const parts = [nm.serveUs, nm.workerUs, nm.sandboxUs!, nm.clientUs ?? 0, nm.redisUs!];
  const total = parts.reduce((a, b) => a + b, 0);
  const bullTotal = bull.processUs + bull.redisUs;
  const us = (n: number) => `${n.toFixed(0)}`;
  return {
    name: "CPU per input, every process (defaults, both maps)",
    value: `${us(total)} µs: control plane ${us(nm.serveUs)} · worker ${us(nm.workerUs)} · ` +
      `sandboxes ${us(nm.sandboxUs!)} · client ${us(nm.clientUs ?? 0)} · Redis ${us(nm.redisUs!)}`,
    baseline: `BullMQ ${us(bullTotal)} µs: its process ${us(bull.processUs)} · Redis ${
      us(bull.redisUs)
    }`,
    ratio: `${(total / bullTotal).toFixed(2)}×`,
  };
}
