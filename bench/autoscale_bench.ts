/**
 * Autoscaler benchmarks: how long from a backlog appearing to extra workers
 * taking inputs (process and docker drivers), and how long a 240-input
 * backlog of 500 ms I/O-bound inputs takes with the autoscaler (max 4)
 * against a fixed single worker and fixed 4 workers, in the same run.
 * Workers take 4 inputs at once, so one worker needs 30 s of sleeping.
 */
import type { Row } from "./_table.ts";
import { type ClusterStatus, connectStats } from "../autoscale/mod.ts";
import { readTokenFile } from "../proto/token_file.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** A `nano-modal` subprocess whose output is kept, to wait for a line in it. */
class Cli {
  readonly child: Deno.ChildProcess;
  output = "";
  readonly #done: Promise<void>;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}main.ts`, ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const keep = async (stream: ReadableStream<Uint8Array>) => {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) this.output += text;
    };
    this.#done = Promise.all([keep(this.child.stdout), keep(this.child.stderr)]).then(() => {});
  }

  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.output.match(pattern);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`bench: no ${pattern} in:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Runs to the end; the exit code. */
  async exited(): Promise<number> {
    const { code } = await this.child.status;
    await this.#done;
    return code;
  }

  async stop(): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await this.exited();
  }
}

async function startServe(): Promise<{ url: string; proc: Cli }> {
  const proc = new Cli(["serve", "--port", "0"]);
  return { url: (await proc.waitFor(/listening on (http:\/\/\S+)/))[1], proc };
}

/** `nano-modal run APP -- args`: its exit code and output. */
async function runApp(url: string, args: string[]): Promise<{ code: number; output: string }> {
  const proc = new Cli(["run", "--server", url, APP, "--", ...args]);
  const code = await proc.exited();
  return { code, output: proc.output };
}

async function buildImages(): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}scripts/build_images.ts`],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`bench: deno task image failed:\n${new TextDecoder().decode(stderr)}`);
  }
}

const APP = "tests/fixtures/slow_map.ts";
const CONCURRENCY = "4";

async function status(url: string): Promise<ClusterStatus | undefined> {
  // The token the server generated (it requires one; the autoscaler reads the same file).
  const client = connectStats(url, { token: readTokenFile() });
  try {
    return await client.status();
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

async function until(probe: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function autoscaler(url: string, driver: string, tmp: string, max = 4): Cli {
  return new Cli([
    "autoscaler",
    "--server",
    url,
    "--driver",
    driver,
    "--min",
    "1",
    "--max",
    String(max),
    "--interval-ms",
    "500",
    "--idle-ms",
    "60000",
    "--worker-concurrency",
    CONCURRENCY,
    "--worker-runner",
    driver === "docker" ? "docker" : "deno",
    "--state-dir",
    `${tmp}/state`,
    "--worker-dir",
    `${tmp}/w`,
    "--stop-workers-on-exit",
  ], { NANO_MODAL_CACHE: `${tmp}/cache` });
}

/** Milliseconds from the first queued input to a second worker holding inputs. */
async function reaction(driver: "process" | "docker"): Promise<number> {
  const tmp = await Deno.makeTempDir({ prefix: "nmb-" });
  const server = await startServe();
  const scaler = autoscaler(server.url, driver, tmp);
  try {
    await until(async () => (await status(server.url))?.workers.length === 1, 120_000, "1 worker");
    const run = runApp(server.url, ["64", "2000"]);
    let backlogAt = 0;
    await until(
      async () => {
        const s = await status(server.url);
        if (!backlogAt && s?.functions.some((f) => f.queued > 0)) backlogAt = performance.now();
        return !!backlogAt && (s?.workers.filter((w) => w.busy > 0).length ?? 0) >= 2;
      },
      120_000,
      "a second worker takes inputs",
    );
    const took = performance.now() - backlogAt;
    const r = await run;
    if (r.code !== 0) throw new Error(`bench: the map failed:\n${r.output}`);
    return took;
  } finally {
    await scaler.stop();
    await server.proc.stop();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** Wall time of the 240-input map with `workers` fixed workers, or the autoscaler (max 4). */
async function backlog(workers: number | "autoscaler"): Promise<number> {
  const tmp = await Deno.makeTempDir({ prefix: "nmb-" });
  const server = await startServe();
  const procs: Cli[] = [];
  try {
    if (workers === "autoscaler") procs.push(autoscaler(server.url, "process", tmp));
    else {
      for (let i = 0; i < workers; i++) {
        procs.push(
          new Cli(
            ["worker", "--server", server.url, "--concurrency", CONCURRENCY, "--runner", "deno"],
            { NANO_MODAL_CACHE: `${tmp}/cache${i}` },
          ),
        );
      }
    }
    const ready = workers === "autoscaler" ? 1 : workers;
    await until(
      async () => (await status(server.url))?.workers.length === ready,
      120_000,
      `${ready} workers`,
    );
    const t = performance.now();
    const r = await runApp(server.url, ["240", "500"]);
    const took = performance.now() - t;
    if (r.code !== 0 || !/^done 240$/m.test(r.output)) {
      throw new Error(`bench: the map failed:\n${r.output}`);
    }
    return took;
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await server.proc.stop();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

const s = (n: number) => `${(n / 1000).toFixed(1)} s`;

/** Runs the autoscaler benchmarks and returns their rows. */
export async function autoscaleBench(): Promise<Row[]> {
  const rows: Row[] = [];
  const processReaction = await reaction("process");
  rows.push({
    name: "backlog → 2nd worker busy (process driver, 500 ms interval)",
    value: s(processReaction),
  });
  await buildImages();
  const dockerReaction = await reaction("docker");
  rows.push({
    name: "backlog → 2nd worker busy (docker driver, 500 ms interval)",
    value: s(dockerReaction),
  });
  const one = await backlog(1);
  const four = await backlog(4);
  const scaled = await backlog("autoscaler");
  rows.push({ name: "240 × 500 ms inputs, fixed 1 worker (4 at once)", value: s(one) });
  rows.push({ name: "240 × 500 ms inputs, fixed 4 workers", value: s(four) });
  rows.push({
    name: "240 × 500 ms inputs, autoscaler 1 → max 4 (process)",
    value: s(scaled),
    baseline: `${s(four)} (fixed 4)`,
    ratio: `${(scaled / four).toFixed(2)}×`,
    goal: "≤ 1.3×",
  });
  return rows;
}

if (import.meta.main) {
  const { printTable } = await import("./_table.ts");
  printTable("Autoscaler (same run baselines)", await autoscaleBench());
}
