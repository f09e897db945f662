/** Runs bench/_bench_app.ts through the real CLI and returns what it measured. */
const ROOT = new URL("../", import.meta.url).pathname;

/** What the bench app prints: cold call, warm call samples and a timed map. */
export interface BenchAppResult {
  coldMs: number;
  warm: number[];
  mapMs: number;
  mapCount: number;
}

/** Where the app runs: a server (`--server`) or an embedded worker of a runner. */
export type BenchTarget = { server: string } | { runner: "docker" | "deno"; cache: string };

/** Runs the bench app with `warmCalls` warm `.remote()` calls and a map of `mapInputs`. */
export async function runBenchApp(
  target: BenchTarget,
  warmCalls: number,
  mapInputs: number,
): Promise<BenchAppResult> {
  const where = "server" in target ? ["--server", target.server] : ["--runner", target.runner];
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}main.ts`,
      "run",
      ...where,
      `${ROOT}bench/_bench_app.ts`,
      "--",
      `${warmCalls}`,
      `${mapInputs}`,
    ],
    cwd: ROOT,
    env: "cache" in target ? { NANO_MODAL_CACHE: target.cache } : {},
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (out.code !== 0) {
    throw new Error(
      `bench app (${where.join(" ")}) failed: ${text} ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return JSON.parse(text);
}
