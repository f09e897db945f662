/**
 * Default-options benchmarks (issue 14): functions with no options, `serve --with-workers`
 * with no `--concurrency`, each figure beside a baseline measured in the same run.
 * Peak RSS is sampled from /proc every 20 ms for the server process and, separately,
 * for the largest sandbox process it started.
 */
import { ms, percentile, type Row } from "./_table.ts";
import { startServe } from "./_serve.ts";
import { runAppJson } from "./_bench_app_run.ts";
import { coldStartRows } from "./_cold_start.ts";
import { cpuBench } from "./_cpu_bench.ts";

const N = 20_000;

/** Resident set (MiB) of a process, 0 once it is gone. */
function rssMiB(pid: number): number {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(s.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      const c = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/children`).trim();
      if (c) out.push(...c.split(" ").map(Number));
    }
  } catch { /* gone */ }
  return out;
}

function descendants(pid: number): number[] {
  const all: number[] = [];
  const todo = childrenOf(pid);
  while (todo.length) {
    const p = todo.pop()!;
    all.push(p);
    todo.push(...childrenOf(p));
  }
  return all;
}

/** Samples peak RSS of `pid` and of its largest descendant until stopped. */
function sampleRss(pid: number): { stop(): { server: number; sandbox: number; now: number } } {
  let server = 0, sandbox = 0;
  const tick = () => {
    server = Math.max(server, rssMiB(pid));
    for (const c of descendants(pid)) sandbox = Math.max(sandbox, rssMiB(c));
  };
  const id = setInterval(tick, 20);
  return {
    stop() {
      clearInterval(id);
      tick();
      return { server, sandbox, now: rssMiB(pid) };
    },
  };
}

function app(url: string, ...args: string[]): Promise<Record<string, unknown>> {
  return runAppJson("_defaults_app.ts", { where: ["--server", url], args });
}

/** Runs the defaults app; `onLine` sees each line it prints as it prints it (per-round figures). */
function appWatched(
  url: string,
  args: string[],
  onLine: (line: string) => void,
): Promise<Record<string, unknown>> {
  return runAppJson("_defaults_app.ts", { where: ["--server", url], args, onLine });
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
  const { fetchBaseline } = await import("./core_bench.ts");
  const base = await fetchBaseline(2000);
  const baseP50 = percentile(base, 50);
  const rows: Row[] = [];
  rows.push(await freshMaps(3));
  const { url, child } = await startServe();
  try {
    const warm = (await app(url, "warm", "2000")).warm as number[];
    const p50 = percentile(warm, 50);
    rows.push({
      name: "warm .remote() p50 (defaults)",
      value: ms(p50),
      baseline: `fetch floor p50 ${ms(baseP50)}`,
      ratio: `${(p50 / baseP50).toFixed(1)}×`,
      goal: "≤ 5×",
    });
    await app(url, "map", "2000");
    const s1 = sampleRss(child.pid);
    const one = (await app(url, "map", String(N))).ms as number[];
    const m1 = s1.stop();
    rows.push({
      name: `.map of ${N} trivial inputs (defaults)`,
      value: rate(N, one[0]),
      goal: "≥ 20,000/s",
    });
    rows.push({
      name: `peak RSS during the ${N} map (defaults)`,
      value: `server ${m1.server.toFixed(0)} MiB, largest sandbox ${m1.sandbox.toFixed(0)} MiB`,
      goal: "≤ 300 MiB",
    });
    const s2 = sampleRss(child.pid);
    const after: number[] = []; // the server's RSS as each map ends
    const many = (await appWatched(url, ["map", String(N), String(rounds)], (line) => {
      if (line.startsWith('{"round"')) after.push(rssMiB(child.pid));
    })).ms as number[];
    const m2 = s2.stop();
    rows.push({
      name: `${rounds} × ${N} maps on one server (defaults)`,
      value: `peak server ${m2.server.toFixed(0)} MiB, after ${m2.now.toFixed(0)} MiB`,
      baseline: `rates ${rate(N, Math.max(...many))}–${rate(N, Math.min(...many)).split(" ")[0]}`,
      goal: "< 300 MiB",
    });
    rows.push({
      name: `server RSS after each of the ${rounds} maps (MiB)`,
      value: after.map((m) => m.toFixed(0)).join(" "),
    });
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
