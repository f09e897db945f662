/**
 * What the dashboard shows, read at request time: apps and their functions
 * with live figures, workers, recent calls, and volumes and secrets by name.
 * @module
 */
import type { Store } from "../store/mod.ts";

/** One finished input. */
export interface CallView {
  /** When it finished (ms since the epoch). */
  timeMs: number;
  /** Its app's id. */
  appId: string;
  /** Its app's name. */
  app: string;
  /** Its function's name. */
  function: string;
  /** The call it belongs to. */
  callId: string;
  /** `success`, `failure`, `timeout` or `internal`. */
  status: string;
  /** How long the function ran. */
  durationMs: number;
}

/** Where the dashboard's live figures come from (the control plane's observer). */
export interface DashboardSource {
  /** Where apps, queues and workers are read. */
  store: Store;
  /** The last finished inputs, newest first. */
  recentCalls(): CallView[];
  /** A function's figures over the recent window. */
  figures(functionId: string): {
    success: number;
    failure: number;
    callsPerMinute: number;
    p50Ms: number;
    p99Ms: number;
  };
  /** Sandboxes on connected workers, by state. */
  containers(): { idle: number; busy: number; starting: number };
}

/** A function as the dashboard shows it. */
export interface FunctionView {
  /** Its name in the app. */
  name: string;
  /** Its id. */
  functionId: string;
  /** Inputs waiting for a worker. */
  queued: number;
  /** Inputs held by workers. */
  running: number;
  /** Inputs finished in the last minute. */
  callsPerMinute: number;
  /** Inputs that succeeded (recent window). */
  success: number;
  /** Inputs that failed or timed out (recent window). */
  failure: number;
  /** Median duration over the recent window. */
  p50Ms: number;
  /** 99th percentile duration over the recent window. */
  p99Ms: number;
}

/** An app as the dashboard shows it. */
export interface AppView {
  /** Its id. */
  appId: string;
  /** Its name. */
  name: string;
  /** Whether it takes calls. */
  state: "running" | "stopped";
  /** Lives with its client, or deployed. */
  kind: "ephemeral" | "deployed";
  /** The deployed version, or "". */
  version: string;
  /** When it was created. */
  createdMs: number;
  /** Its functions, by name. */
  functions: FunctionView[];
}

/** A worker as the dashboard shows it. */
export interface WorkerView {
  /** Chosen by the worker. */
  workerId: string;
  /** Where it runs. */
  hostname: string;
  /** "docker" or "deno". */
  runner: string;
  /** Inputs it holds at once. */
  capacity: number;
  /** Inputs it holds now. */
  busy: number;
  /** Its last report. */
  lastSeenMs: number;
}

/** Everything one dashboard render needs. */
export interface Snapshot {
  /** When it was read. */
  nowMs: number;
  /** Running apps first, then the newest stopped ones. */
  apps: AppView[];
  /** Workers heard from in the last minute. */
  workers: WorkerView[];
  /** The last finished inputs, newest first. */
  calls: CallView[];
  /** Sandboxes on connected workers, by state. */
  containers: { idle: number; busy: number; starting: number };
  /** Volume names. */
  volumes: string[];
  /** Secret names (never values). */
  secrets: string[];
}

const MAX_APPS = 50;
const WORKER_STALE_MS = 60_000;

/** Names only: a listing's other fields (never secret values) stay out of the page. */
async function names(list: Promise<{ name: string }[]>): Promise<string[]> {
  try {
    return (await list).map((i) => i.name).sort();
  } catch {
    return [];
  }
}

/** Reads a snapshot. */
export async function snapshot(source: DashboardSource, nowMs: number): Promise<Snapshot> {
  const store = source.store;
  const [apps, depth, allWorkers, deployments] = await Promise.all([
    store.apps.listApps(),
    store.queue.depth(),
    store.workers.list(),
    store.deployments.listDeployments().catch(() => []),
  ]);
  const versionOf = new Map(deployments.map((d) => [d.appId, String(d.version)]));
  const workers = allWorkers.filter((w) => w.lastSeenMs >= nowMs - WORKER_STALE_MS);
  const running: Record<string, number> = {};
  for (const w of workers) {
    for (const [id, n] of Object.entries(w.running ?? {})) running[id] = (running[id] ?? 0) + n;
  }
  // Running apps first, then the newest.
  const shown = apps.sort((a, b) =>
    Number(a.stopped) - Number(b.stopped) || b.createdMs - a.createdMs
  )
    .slice(0, MAX_APPS);
  return {
    nowMs,
    apps: shown.map((a) => ({
      appId: a.appId,
      name: a.name,
      state: a.stopped ? "stopped" : "running",
      kind: a.ephemeral ? "ephemeral" : "deployed",
      version: versionOf.get(a.appId) ?? "",
      createdMs: a.createdMs,
      functions: Object.entries(a.functionIds).sort().map(([name, functionId]) => ({
        name,
        functionId,
        queued: depth[functionId] ?? 0,
        running: running[functionId] ?? 0,
        ...source.figures(functionId),
      })),
    })),
    workers: workers.map((w) => ({
      workerId: w.workerId,
      hostname: w.hostname,
      runner: w.runner,
      capacity: w.capacity,
      busy: w.busy ?? 0,
      lastSeenMs: w.lastSeenMs,
    })),
    calls: source.recentCalls().slice(0, 50),
    containers: source.containers(),
    volumes: await names(store.volumes.listVolumes()),
    secrets: await names(store.secrets.listSecrets()),
  };
}
