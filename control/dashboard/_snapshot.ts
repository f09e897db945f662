/**
 * What the dashboard shows, read at request time: apps and their functions
 * with live figures, workers, recent calls, and volumes and secrets by name.
 * @module
 */
import type { Store } from "../store/mod.ts";

/** One finished input. */
export interface CallView {
  timeMs: number;
  appId: string;
  app: string;
  function: string;
  callId: string;
  status: string;
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
  name: string;
  functionId: string;
  queued: number;
  running: number;
  callsPerMinute: number;
  success: number;
  failure: number;
  p50Ms: number;
  p99Ms: number;
}

/** An app as the dashboard shows it. */
export interface AppView {
  appId: string;
  name: string;
  state: "running" | "stopped";
  kind: "ephemeral" | "deployed";
  version: string;
  createdMs: number;
  functions: FunctionView[];
}

/** A worker as the dashboard shows it. */
export interface WorkerView {
  workerId: string;
  hostname: string;
  runner: string;
  capacity: number;
  busy: number;
  lastSeenMs: number;
}

/** Everything one dashboard render needs. */
export interface Snapshot {
  nowMs: number;
  apps: AppView[];
  workers: WorkerView[];
  calls: CallView[];
  containers: { idle: number; busy: number; starting: number };
  volumes: string[];
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
