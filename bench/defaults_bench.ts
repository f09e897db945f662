/**
 * Default-options benchmarks (issue 14): functions with no options, `serve --with-workers`
 * with no `--concurrency`, each figure beside a baseline measured in the same run.
 * The memory figures (peak RSS, RSS over many maps) are in bench/_memory_bench.ts.
 */
import { ms, percentile, type Row } from "./_table.ts";
import { startServe } from "./_serve.ts";
import { runAppJson } from "./_bench_app_run.ts";
import { coldStartRows } from "./_cold_start.ts";
import { cpuBench } from "./_cpu_bench.ts";
import { memoryRows } from "./_memory_bench.ts";

const N = 20_000;

function app(url: string, ...args: string[]): Promise<Record<string, unknown>> {
  return runAppJson("_defaults_app.ts", { where: ["--server", url], args });
}

const rate = (n: number, msTaken: number) =>
  `${Math.round(n / (msTaken / 1000)).toLocaleString("en-US")} inputs/s`;

/**
 * The first map on a fresh server, as a new user's first run meets it: no warm-up (cold JIT,
 * the function loaded and its sandbox started while the inputs arrive), `times` servers.
 */
async function freshMaps(times: number): Promise<Row> {
  const rates: number[] = [];
  for (let i = 0; i < times; i++) {
    const { url, child } = await startServe();
    try {
      rates.push(N / (((await app(url, "map", String(N))).ms as number[])[0] / 1000));
    } finally {
      child.kill("SIGTERM");
      await child.status;
    }
  }
  const fmt = (r: number) => Math.round(r).toLocaleString("en-US");
  return {
    name: `first .map of ${N} on a fresh server (defaults, ${times} servers)`,
    value: `${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))} inputs/s`,
    goal: "≥ 20,000/s",
  };
}

/** Runs the default-options benchmarks (`rounds` = maps on one server for the memory figure). */
export async function defaultsBench(rounds = 10): Promise<Row[]> {
  const { fetchBaseline, startFloorServer } = await import("./core_bench.ts");
  const rows: Row[] = [];
  rows.push(await freshMaps(3));
  const { url, child } = await startServe();
  try {
    // The floor just before and just after the warm calls, each once the machine has settled
    // for a second: a loopback round trip takes half as long while another process keeps a
    // core busy (a server still starting, a client still exiting), as the two ends then share
    // the other core, so a floor measured in such a moment misleads.
    const settle = () => new Promise((r) => setTimeout(r, 1_000));
    await settle();
    const before = await fetchBaseline(1000);
    // The floor also interleaved with the calls, in their process: a fetch before each call,
    // so both meet the machine in the same state (the ratio's baseline).
    const floorServer = await startFloorServer();
    let result;
    try {
      result = await app(url, "warm", "2000", floorServer.url);
    } finally {
      await floorServer.stop();
    }
    const warm = result.warm as number[];
    await settle();
    const apartP50 = percentile([...before, ...await fetchBaseline(1000)], 50);
    const baseP50 = percentile(result.floor as number[], 50);
    const p50 = percentile(warm, 50);
    rows.push({
      name: "warm .remote() p50 (defaults)",
      value: ms(p50),
      baseline: `fetch floor p50 ${ms(baseP50)} interleaved with the calls (apart, settled: ${
        ms(apartP50)
      }, ${(p50 / apartP50).toFixed(1)}×)`,
      ratio: `${(p50 / baseP50).toFixed(1)}×`,
      goal: "≤ 5×",
    });
    await app(url, "map", "2000");
    rows.push(...await memoryRows(url, child.pid, rounds));
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
  // CPU-bound inputs on each runner, each on a server of its own (bench/_cpu_bench.ts).
  rows.push(...await cpuBench());
  const tuned = await startServe(["--concurrency", "4096"]);
  try {
    await app(tuned.url, "map", "2000");
    const t = (await app(tuned.url, "map", String(N))).ms as number[];
    rows.push({
      name: `TUNED (--concurrency 4096, fn defaults): .map of ${N}`,
      value: rate(N, t[0]),
    });
  } finally {
    tuned.child.kill("SIGTERM");
    await tuned.child.status;
  }
  rows.push(...await coldStartRows(5));
  return rows;
}
