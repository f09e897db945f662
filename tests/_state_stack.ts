/** A `serve` process and separate `worker` processes, for the secrets and volumes tests. */
import { CliProcess, runCli, startServe } from "./_cli.ts";

/** A control plane and its workers, each its own process. */
export interface Stack {
  url: string;
  serve: CliProcess;
  workers: CliProcess[];
  /** Environment every process of the stack gets (data dir, secret key). */
  env: Record<string, string>;
  /** `nano-modal ...args --server URL`. */
  cli(args: string[], timeoutMs?: number): ReturnType<typeof runCli>;
  /** Everything the server and the workers printed themselves. */
  ownOutput(): string;
  addWorker(runner: "deno" | "docker"): Promise<CliProcess>;
  stop(): Promise<void>;
}

/** Starts `serve` with `serveArgs` and one worker per entry of `runners`. */
export async function startStack(
  runners: ("deno" | "docker")[],
  serveArgs: string[] = [],
  env: Record<string, string> = {},
  /** Inputs each worker holds at once. */
  workerConcurrency = 16,
): Promise<Stack> {
  // What the stack makes, it removes when it stops (a data dir the caller passed is the caller's).
  const made: string[] = [];
  const dataDir = env.NANO_MODAL_DATA_DIR ??
    made[made.push(await Deno.makeTempDir({ prefix: "nm-state-data-" })) - 1];
  const stackEnv = { NANO_MODAL_DATA_DIR: dataDir, ...env };
  const { proc: serve, url } = await startServe(serveArgs, { env: stackEnv });
  const workers: CliProcess[] = [];
  const stack: Stack = {
    url,
    serve,
    workers,
    env: stackEnv,
    cli: (args, timeoutMs) => runCli([...args, "--server", url], { env: stackEnv, timeoutMs }),
    ownOutput: () => [serve, ...workers].map((p) => p.stdout + p.stderr).join("\n"),
    async addWorker(runner) {
      const cache = await Deno.makeTempDir({ prefix: "nm-state-worker-" });
      made.push(cache);
      const w = new CliProcess(
        ["worker", "--server", url, "--runner", runner, "--concurrency", `${workerConcurrency}`],
        { env: { ...stackEnv, NANO_MODAL_CACHE: cache } },
      );
      await w.waitFor(/serving/);
      workers.push(w);
      return w;
    },
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
      await serve.stop();
      await Promise.all(made.map((d) => Deno.remove(d, { recursive: true }).catch(() => {})));
    },
  };
  for (const r of runners) await stack.addWorker(r);
  return stack;
}
