/**
 * Deployed apps: a warm `.remote()` through `RemoteFunction.fromName` from a
 * plain script against the same call from a `run` app, and the time to deploy
 * an app that did not change (its bundle is already on the server).
 */
import { ms, percentile, type Row } from "./_table.ts";
import { startServe } from "./_serve.ts";
import { runBenchApp } from "./_bench_app_run.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const APP = `${ROOT}bench/_bench_app.ts`;
const NAME = "bench-deployed";

async function deno(args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) {
    throw new Error(`deno ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

async function deploy(url: string): Promise<number> {
  const t = performance.now();
  await deno(["run", "-A", `${ROOT}main.ts`, "deploy", APP, "--name", NAME, "--server", url]);
  return performance.now() - t;
}

async function fromNameWarm(url: string, calls: number): Promise<number[]> {
  const text = await deno(
    ["run", "-A", `${ROOT}bench/_from_name_client.ts`, NAME, `${calls}`],
    { NANO_MODAL_SERVER: url },
  );
  return JSON.parse(text.trim().split("\n").at(-1)!).warm;
}

/** Runs the deployed-app benchmarks and returns their rows. */
export async function deployBench(): Promise<Row[]> {
  const { url, child } = await startServe();
  try {
    const firstDeployMs = await deploy(url);
    const unchanged: number[] = [];
    for (let i = 0; i < 3; i++) unchanged.push(await deploy(url));
    // Alternate the two clients so that drift in machine load hits both alike.
    const byName: number[] = [];
    const byRun: number[] = [];
    for (let round = 0; round < 2; round++) {
      byRun.push(percentile((await runBenchApp({ server: url }, 2000, 100)).warm, 50));
      byName.push(percentile(await fromNameWarm(url, 2000), 50));
    }
    const named = Math.min(...byName);
    const run = Math.min(...byRun);
    const deployMs = percentile(unchanged, 50);
    return [
      {
        name: "warm .remote() p50, fromName from a plain script",
        value: ms(named),
        baseline: `${ms(run)} (from a run app)`,
        ratio: `${(named / run).toFixed(2)}x`,
        goal: "≤ 1.10x",
      },
      {
        name: "deploy of an unchanged app (CLI, wall time, median of 3)",
        value: ms(deployMs),
        baseline: `${ms(firstDeployMs)} (first deploy)`,
        goal: "≤ 1 s",
      },
    ];
  } finally {
    child.kill();
    await child.status;
  }
}
