/** Runs bench/_bench_app.ts through the real CLI and returns what it measured. */
const ROOT = new URL("../", import.meta.url).pathname;

/** What the bench app prints: cold call, warm call samples and a timed map. */
export interface BenchAppResult {
  coldMs: number;
  warm: number[];
  /** Loopback fetches, one before each warm call (only with a floor URL). */
  floor: number[];
  mapMs: number;
  mapCount: number;
}

/** Where the app runs: a server (`--server`) or an embedded worker of a runner. */
export type BenchTarget = { server: string } | { runner: "docker" | "deno"; cache: string };

/**
 * Runs `nano-modal run <where> bench/<app> -- <args>` through the real CLI and
 * parses the last line it prints as JSON; fails with its stderr otherwise.
 */
export async function runAppJson<T>(
  app: string,
  options: {
    where: string[];
    args: string[];
    env?: Record<string, string>;
    /** Sees each line the app prints, as it prints it (per-round figures). */
    onLine?: (line: string) => void;
  },
): Promise<T> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}main.ts`, "run", ...options.where, `${ROOT}bench/${app}`, "--"]
      .concat(options.args),
    cwd: ROOT,
    env: options.env ?? {},
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let last = "", pending = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      if (line.trim()) last = line;
      options.onLine?.(line);
    }
  }
  if (pending.trim()) last = pending;
  const { code } = await child.status;
  if (code !== 0) {
    const why = `${last} ${await stderr}`;
    throw new Error(
      `${app} (${options.where.join(" ")} -- ${options.args.join(" ")}) failed: ${why}`,
    );
  }
  await stderr;
  return JSON.parse(last);
}

/**
 * Runs the bench app with `warmCalls` warm `.remote()` calls (each after a fetch of `floorUrl`,
 * if given) and a map of `mapInputs`.
 */
export function runBenchApp(
  target: BenchTarget,
  warmCalls: number,
  mapInputs: number,
  floorUrl?: string,
): Promise<BenchAppResult> {
  const where = "server" in target ? ["--server", target.server] : ["--runner", target.runner];
  return runAppJson("_bench_app.ts", {
    where,
    args: [`${warmCalls}`, `${mapInputs}`, ...floorUrl ? [floorUrl] : []],
    env: "cache" in target ? { NANO_MODAL_CACHE: target.cache } : {},
  });
}
