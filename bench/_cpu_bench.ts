/**
 * CPU-bound work uses the cores (issue 14): 200 inputs of fixed CPU work (~20 ms each on
 * one core) through `.map` with default options, on each runner, against the same inputs
 * run serially with `.local()` in the same run (half before, half after the map, so drifting
 * load on a shared machine weighs on both).
 */
import { ms, type Row } from "./_table.ts";
import { startServe } from "./_serve.ts";
import { runAppJson } from "./_bench_app_run.ts";
import { cpuTicks } from "./_proc.ts";

interface CpuFigures {
  parallelMs: number;
  serialMs: number;
  threadsMs: number;
  meanInSandboxMs: number;
  sandboxes: number;
  meanGapMs: number;
}

function cpuRun(url: string, n: number): Promise<CpuFigures> {
  return runAppJson("_cpu_app.ts", { where: ["--server", url], args: [String(n)] });
}

/** CPU time (ms) a process has used so far, from /proc (0 if unreadable). */
function cpuTimeMs(pid: number): number {
  return (cpuTicks(pid) ?? 0) * 10;
}

/** One row per runner: `serve --with-workers --runner R` with no other flag. */
export async function cpuBench(n = 200, runners = ["deno", "docker"]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const runner of runners) {
    const { url, child } = await startServe(["--runner", runner]);
    try {
      const cpu0 = cpuTimeMs(child.pid);
      const f = await cpuRun(url, n);
      const serverMs = cpuTimeMs(child.pid) - cpu0;
      rows.push({
        name:
          `${n} × 20 ms CPU-bound inputs, ${runner} runner, ${navigator.hardwareConcurrency} cores (defaults)`,
        value: `${ms(f.parallelMs)} (${f.sandboxes} sandboxes, ${
          ms(f.meanInSandboxMs)
        }/input there, ${ms(f.meanGapMs)} idle between inputs; server+worker CPU ${
          ms(serverMs)
        } in the whole run)`,
        baseline: `serial .local() ${ms(f.serialMs)}; 2 plain threads ${ms(f.threadsMs)} (${
          (f.serialMs / f.threadsMs).toFixed(2)
        }×: the machine's ceiling now)`,
        ratio: `${(f.serialMs / f.parallelMs).toFixed(2)}× faster`,
        goal: "≥ 1.6×",
      });
    } finally {
      child.kill("SIGTERM");
      await child.status;
    }
  }
  return rows;
}

if (import.meta.main) {
  const { printTable } = await import("./_table.ts");
  printTable("CPU-bound work (defaults)", await cpuBench(Number(Deno.args[0] ?? 200)));
}
