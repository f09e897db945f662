/** `nano-modal autoscaler`: keeps a pool of workers that follows the queue. */
import {
  Autoscaler,
  connectStats,
  type Driver,
  makeDriver,
  type WorkerSpec,
} from "../autoscale/mod.ts";
import { systemClock } from "../proto/clock.ts";
import { intFlag, parse, serverUrl } from "./_args.ts";
import { cacheDir } from "./_runner.ts";
import { serverOrLocal, tokenFor } from "./config.ts";
import { UsageError } from "./errors.ts";

export const AUTOSCALER_HELP = `Start workers when inputs wait, drain them when idle.

Usage: nano-modal autoscaler --server URL --min N --max N [options]

Options:
  --server URL             control plane to follow (env NANO_MODAL_SERVER)
  --min N, --max N         bounds on the workers this autoscaler runs
  --driver NAME            process (child processes, default), docker (containers on this
                           engine) or swarm (a Docker Swarm service)
  --interval-ms N          time between looks at the queue (default 2000)
  --idle-ms N              drain a worker idle this long (default 30000)
  --target-backlog N       waiting inputs per worker tolerated before scaling up (default 0)
  --worker-concurrency N   --concurrency of each worker (default 32)
  --worker-runner NAME     --runner of each worker (docker|deno; default: theirs)
  --worker-server URL      the control plane as workers reach it (default: --server)
  --grace-seconds N        a draining worker is killed after this long (default 60)
  --state-dir DIR          process driver: pid and log files (default: under the cache dir)
  --image NAME             docker/swarm: the nano-modal image (default nano-modal:latest)
  --network NAME           docker/swarm: network of worker containers (default host / ingress)
  --worker-dir DIR         docker/swarm: host directory for worker caches, mounted at the
                           same path (default /tmp/nm-workers; keep it short:
                           unix socket paths below it are limited to 107 bytes)
  --service NAME           swarm: the service to scale (default nano-modal-workers)
  --stop-workers-on-exit   drain every worker when the autoscaler stops (default: leave
                           them for the next autoscaler to adopt)
  --token TOKEN            the server's token (env NANO_MODAL_TOKEN)
  -h, --help               show this help`;

/** Runs the `autoscaler` command until SIGINT/SIGTERM; returns the exit code. */
export async function autoscalerCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("autoscaler", args, {
    server: { type: "string" },
    min: { type: "string" },
    max: { type: "string" },
    driver: { type: "string" },
    "interval-ms": { type: "string" },
    "idle-ms": { type: "string" },
    "target-backlog": { type: "string" },
    "worker-concurrency": { type: "string" },
    "worker-runner": { type: "string" },
    "worker-server": { type: "string" },
    "grace-seconds": { type: "string" },
    "state-dir": { type: "string" },
    image: { type: "string" },
    network: { type: "string" },
    "worker-dir": { type: "string" },
    service: { type: "string" },
    "stop-workers-on-exit": { type: "boolean" },
    token: { type: "string" },
  });
  if (values.help) {
    console.log(AUTOSCALER_HELP);
    return 0;
  }
  if (positionals.length) {
    throw new UsageError(`autoscaler takes no file or command, got "${positionals[0]}"`);
  }
  const chosen = await serverOrLocal(values.server);
  if (!chosen) {
    throw new UsageError(
      "autoscaler needs a control plane: pass --server URL or set NANO_MODAL_SERVER (or start `nano-modal serve` on this machine)",
    );
  }
  if (values.max === undefined) throw new UsageError("autoscaler needs --max N (and --min N)");
  const min = intFlag("min", values.min, { default: 0, min: 0, max: 1_000 });
  const max = intFlag("max", values.max, { default: 1, min: 1, max: 1_000 });
  if (min > max) throw new UsageError(`--min ${min} is above --max ${max}: lower --min`);
  const driverName = (values.driver as string | undefined) ?? "process";
  if (!["process", "docker", "swarm"].includes(driverName)) {
    throw new UsageError(`--driver must be process, docker or swarm, got "${driverName}"`);
  }
  const runner = values["worker-runner"] as string | undefined;
  if (runner !== undefined && runner !== "docker" && runner !== "deno") {
    throw new UsageError(`--worker-runner must be docker or deno, got "${runner}"`);
  }
  const token = tokenFor(chosen, values.token);
  const server = chosen.url;
  const concurrency = intFlag("worker-concurrency", values["worker-concurrency"], {
    default: 32,
    min: 1,
    max: 100_000,
  });
  const spec: WorkerSpec = {
    serverUrl: typeof values["worker-server"] === "string"
      ? serverUrl(values["worker-server"], "--worker-server")
      : server,
    token,
    concurrency,
    runner,
    graceSeconds: intFlag("grace-seconds", values["grace-seconds"], {
      default: 60,
      min: 1,
      max: 3_600,
    }),
  };
  const intervalMs = intFlag("interval-ms", values["interval-ms"], {
    default: 2_000,
    min: 50,
    max: 3_600_000,
  });
  const idleMs = intFlag("idle-ms", values["idle-ms"], {
    default: 30_000,
    min: 0,
    max: 86_400_000,
  });
  const targetBacklog = intFlag("target-backlog", values["target-backlog"], {
    default: 0,
    min: 0,
    max: 1_000_000,
  });
  const stateKey = new URL(server).host.replace(/[^\w.-]/g, "_");
  const driver: Driver = await makeDriver(driverName, {
    spec,
    clock: systemClock,
    stateDir: (values["state-dir"] as string | undefined) ??
      `${cacheDir()}/autoscaler/${stateKey}`,
    image: values.image as string | undefined,
    network: values.network as string | undefined,
    workerDir: values["worker-dir"] as string | undefined,
    service: values.service as string | undefined,
  });
  const stats = connectStats(server, { token });
  const scaler = new Autoscaler({
    driver,
    stats: () => stats.stats(),
    onDecision: (d) => stats.reportScaling(d),
    clock: systemClock,
    intervalMs,
    policy: { min, max, targetBacklog, idleMs, workerCapacity: concurrency },
  });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const adopted = (await driver.list()).filter((u) => !u.draining).length;
  console.error(
    `autoscaler: following ${server} with the ${driver.name} driver, ${min} to ${max} workers${
      adopted ? ` (adopted ${adopted} running)` : ""
    }`,
  );
  await scaler.run(stop.signal);
  if (values["stop-workers-on-exit"]) {
    console.error("autoscaler: draining every worker before exit");
    await driver.stopAll();
  }
  await driver.close();
  stats.close();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  console.error("autoscaler: stopped");
  return 0;
}
