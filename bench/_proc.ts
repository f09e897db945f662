/**
 * What the benchmarks read of processes from /proc: memory, CPU time, and
 * the processes below one (through `/proc/<pid>/task/<tid>/children`).
 *
 * {@linkcode TreeCpu} samples the CPU time of a process and everything below
 * it while a benchmark runs: sandboxes are grandchildren of their worker (under
 * bubblewrap) and are killed, not waited for, so their time never reaches the
 * worker's `cutime`. A process that ends between two samples loses at most a
 * sample period of its time. The tree is walked from its roots through
 * `/proc/<pid>/task/<tid>/children`, a few small reads per sample.
 */

/** Clock ticks a second in /proc's CPU times. */
const TICKS_PER_SECOND = 100;

/** Resident set (MiB) of a process, 0 once it is gone. */
export function rssMiB(pid: number): number {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(s.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** A process's utime + stime in ticks (100 a second), or undefined if it is gone. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/** The children of a process: those of each of its threads (any thread may spawn). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      if (text) out.push(...text.split(" ").map(Number));
    }
  } catch {
    // Gone meanwhile.
  }
  return out;
}

/** The pids below `pid` now. */
export function descendants(pid: number): number[] {
  return tree(pid).slice(1);
}

/** The pids at or below `root` now, walked from the root (cheap: no scan of /proc). */
function tree(root: number): number[] {
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...childrenOf(pid));
  }
  return out;
}

/** Samples the CPU of the trees under some roots from now until {@linkcode TreeCpu.stop}. */
export class TreeCpu {
  #roots: number[];
  /** Per pid: ticks when first seen (0 for a process born after the start), and last seen. */
  #seen = new Map<number, { first: number; last: number }>();
  #timer: ReturnType<typeof setInterval>;

  constructor(roots: number[], everyMs = 50) {
    this.#roots = roots;
    this.#sample(true);
    this.#timer = setInterval(() => this.#sample(false), everyMs);
  }

  #sample(atStart: boolean): void {
    for (const root of this.#roots) {
      for (const pid of tree(root)) {
        const ticks = cpuTicks(pid);
        if (ticks === undefined) continue;
        const seen = this.#seen.get(pid);
        if (seen) seen.last = ticks;
        else this.#seen.set(pid, { first: atStart ? ticks : 0, last: ticks });
      }
    }
  }

  /** Stops sampling; the CPU seconds the trees used since the start. */
  stop(): number {
    clearInterval(this.#timer);
    this.#sample(false);
    let ticks = 0;
    for (const { first, last } of this.#seen.values()) ticks += last - first;
    return ticks / TICKS_PER_SECOND;
  }
}

/** Redis's own CPU seconds so far (`INFO cpu`: user + system of the main process). */
export async function redisCpuSeconds(port: number): Promise<number> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-p", String(port), "INFO", "cpu"],
    stdout: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const field = (name: string) => Number(text.match(new RegExp(`^${name}:([\\d.]+)`, "m"))?.[1]);
  return field("used_cpu_user") + field("used_cpu_sys");
}
