/**
 * What the dashboard shows, read at request time: apps and their functions
 * with live figures, workers, recent calls, and volumes and secrets by name.
 * @module
 */
import type { Store } from "../store/mod.ts";

/** One finished input. */
export interface CallView {
  /** When it ended (ms since the epoch). */
  timeMs: number;
  /** Its app's id. */
  appId: string;
  /** Its app's name. */
  app: string;
  /** Its function's name. */
  function: string;
  /** Its call. */
  callId: string;
  /** How it ended (success, failure, ...). */
  status: string;
  /** How long it ran. */
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
  /** Its name. */
  name: string;
  /** Its id. */
  functionId: string;
  /** Inputs waiting. */
  queued: number;
  /** Inputs running. */
  running: number;
  /** Recent rate of finished inputs. */
  callsPerMinute: number;
  /** Inputs that succeeded. */
  success: number;
  /** Inputs that failed. */
  failure: number;
  /** Median duration. */
  p50Ms: number;
  /** 99th percentile duration. */
  p99Ms: number;
}

/** An app as the dashboard shows it. */
export interface AppView {
  /** Its id. */
  appId: string;
  /** Its name. */
  name: string;
  /** Whether it runs. */
  state: "running" | "stopped";
  /** Run once or deployed. */
  kind: "ephemeral" | "deployed";
  /** Deployed apps: the version (empty otherwise). */
  version: string;
  /** When it was created (ms since the epoch). */
  createdMs: number;
  /** Its functions. */
  functions: FunctionView[];
}

/** A worker as the dashboard shows it. */
export interface WorkerView {
  /** Its id. */
  workerId: string;
  /** The host it runs on. */
  hostname: string;
  /** Its runner. */
  runner: string;
  /** Inputs it runs at once. */
  capacity: number;
  /** Inputs it holds now. */
  busy: number;
  /** When it was last heard from (ms since the epoch). */
  lastSeenMs: number;
}

/** Everything one dashboard render needs. */
export interface Snapshot {
  /** When the snapshot was read (ms since the epoch). */
  nowMs: number;
  /** Apps with their functions. */
  apps: AppView[];
  /** Live workers. */
  workers: WorkerView[];
  /** Recent finished inputs. */
  calls: CallView[];
  /** Containers by state, across workers. */
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
