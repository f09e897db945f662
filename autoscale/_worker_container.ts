/**
 * What a worker container looks like, for the docker and swarm drivers: the
 * nano-modal image running `worker`, the engine's socket mounted into the
 * worker (and only the worker: the function containers it starts never get
 * it), and a cache directory bind-mounted at the same path on the host and in
 * the container, because the worker asks the host's engine to mount its
 * sandbox directories into function containers by that path.
 * @module
 */
import type { WorkerSpec } from "./driver.ts";

/** Labels every worker container (or service) carries; `key` says which autoscaler owns it. */
export function workerLabels(key: string): Record<string, string> {
  return { "nano-modal.role": "worker", "nano-modal.autoscaler": key };
}

/** The owner key of an autoscaler's workers: the control plane they serve. */
export function ownerKey(spec: WorkerSpec): string {
  return spec.serverUrl;
}

/** The worker's command line inside the image (whose entrypoint is `nano-modal`). */
export function workerCommand(spec: WorkerSpec): string[] {
  const args = ["worker", "--server", spec.serverUrl, "--concurrency", String(spec.concurrency)];
  if (spec.runner) args.push("--runner", spec.runner);
  return args;
}

/** The worker's environment; its cache lives in `cacheDir` (the same path on the host). */
export function workerEnv(spec: WorkerSpec, cacheDir: string): string[] {
  const env = [`NANO_MODAL_CACHE=${cacheDir}`];
  if (spec.token) env.push(`NANO_MODAL_TOKEN=${spec.token}`);
  return env;
}

/** The default host directory under which worker containers keep their caches. */
export const DEFAULT_WORKER_DIR = "/tmp/nm-workers";
/** The default image of worker containers. */
export const DEFAULT_IMAGE = "nano-modal:latest";
