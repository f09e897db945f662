/** `nano-modal worker`: takes inputs from a control plane and runs them. */
import { Worker } from "../runner/mod.ts";
import { intFlag, parse } from "./_args.ts";
import { cacheDir, chooseRunner } from "./_runner.ts";
import { configuredWorkerToken, serverOrLocal } from "./config.ts";
import { UsageError } from "./errors.ts";
import { eventLogFromFlags } from "./_events.ts";
import { parseDuration } from "./_duration.ts";
import { pruneImagesEvery } from "./_image_pruner.ts";

export const WORKER_HELP = `Start a worker.

Usage: nano-modal worker --server URL [options]

Options:
  --server URL           control plane to serve (env NANO_MODAL_SERVER)
  --concurrency N        inputs this worker holds at once (default 32)
  --runner docker|deno   how to run functions (default: docker if reachable)
  --cpu N                cores this worker's sandboxes may reserve (each reserves its
                         function's cpu; default: this machine's cores)
  --memory-mib N         memory (MiB) its sandboxes may reserve (each its function's
                         memoryMiB; default: this machine's memory)
  --token TOKEN          the server's worker token (env NANO_MODAL_WORKER_TOKEN, else
                         NANO_MODAL_TOKEN, else the local ~/.config/nano-modal/token)
  --log-format text|json one line per event (connected, container started/stopped,
                         image built) as text or JSON (default text)
  --quiet                print no event lines
  --prune-images-after D remove docker runner images nobody used for D (e.g. 7d, 12h;
                         default 7d; 0 never), checked hourly
  --no-spare             keep no sandbox started ahead (by default one waits: a deno
                         process, ~40 MB, or a container of the default image, so a new
                         app's first call skips its start)
  -h, --help             show this help

SIGTERM or Ctrl-C drains: inputs in hand finish, no new ones are taken.`;

/** Runs the `worker` command until drained; returns the exit code. */
export async function workerCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("worker", args, {
    server: { type: "string" },
    concurrency: { type: "string" },
    runner: { type: "string" },
    cpu: { type: "string" },
    "memory-mib": { type: "string" },
    token: { type: "string" },
    "log-format": { type: "string" },
    quiet: { type: "boolean" },
    "prune-images-after": { type: "string" },
    "no-spare": { type: "boolean" },
  });
  if (values.help) {
    console.log(WORKER_HELP);
    return 0;
  }
  if (positionals.length) {
    throw new UsageError(`worker takes no file or command, got "${positionals[0]}"`);
  }
  const server = (await serverOrLocal(values.server))?.url;
  if (!server) {
    throw new UsageError(
      "worker needs a control plane: pass --server URL or set NANO_MODAL_SERVER (or start `nano-modal serve` on this machine)",
    );
  }
  const capacity = intFlag("concurrency", values.concurrency, {
    default: 32,
    min: 1,
    max: 100_000,
  });
  const resources = {
    cpu: cpuFlag(values.cpu),
    memoryMiB: values["memory-mib"] === undefined
      ? undefined
      : intFlag("memory-mib", values["memory-mib"], { default: 0, min: 1, max: 1 << 30 }),
  };
  const events = eventLogFromFlags(values);
  const runner = await chooseRunner(values.runner, (l) => console.error(l));
  const worker = new Worker({
    events,
    serverUrl: server,
    token: configuredWorkerToken(values.token),
    runner,
    capacity,
    resources,
    cacheDir: cacheDir(),
    spare: !values["no-spare"],
  });
  let signals = 0;
  const onSignal = () => {
    if (++signals === 1) {
      console.error(
        `worker ${worker.id}: draining (finishing inputs in hand; signal again to stop now)`,
      );
      worker.drain();
    } else worker.stop();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  if (!values.quiet) {
    // "serving" follows once the server accepts us (an event of the worker).
    console.error(
      `worker ${worker.id}: connecting to ${server} with the ${runner.name} runner, ${capacity} inputs at once`,
    );
  }
  const pruneAfterMs = parseDuration(
    typeof values["prune-images-after"] === "string" ? values["prune-images-after"] : "7d",
    "--prune-images-after",
  );
  const stopPruning = pruneAfterMs > 0 ? pruneImagesEvery(runner, pruneAfterMs, events) : () => {};
  try {
    await worker.run();
  } finally {
    stopPruning();
  }
  console.error(`worker ${worker.id}: stopped`);
  return 0;
}

/** Reads `--cpu`: a number of cores above 0 (fractions allowed), or undefined when absent. */
function cpuFlag(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || !(n > 0 && n <= 4096)) {
    throw new UsageError(`--cpu must be a number of cores above 0 (e.g. 2 or 1.5), got "${value}"`);
  }
  return n;
}
