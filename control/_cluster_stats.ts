/** `GetStats`: queue depth and running inputs per function, and the live workers. */
import type { Clock } from "../proto/clock.ts";
import type { Store } from "./store/mod.ts";

/** What counts as live, on what clock. */
export interface ClusterStatsOptions {
  /** The service's clock. */
  clock: Clock;
  /** A worker silent for longer is not counted. */
  staleMs: number;
}

/** The numbers an autoscaler (and `nano-modal status`) reads. */
export async function clusterStats(store: Store, options: ClusterStatsOptions) {
  const [depth, allWorkers] = await Promise.all([store.queue.depth(), store.workers.list()]);
  const liveAfter = options.clock.now() - options.staleMs;
  const workers = allWorkers.filter((w) => w.lastSeenMs >= liveAfter);
  const running: Record<string, number> = {};
  for (const w of workers) {
    for (const [id, n] of Object.entries(w.running ?? {})) running[id] = (running[id] ?? 0) + n;
  }
  const containers: Record<string, number> = {};
  for (const w of workers) {
    for (const [id, n] of Object.entries(w.containers ?? {})) {
      containers[id] = (containers[id] ?? 0) + n;
    }
  }
  const ids = new Set([...Object.keys(depth), ...Object.keys(running), ...Object.keys(containers)]);
  const queues = await Promise.all([...ids].map(async (functionId) => {
    const fn = await store.apps.getFunction(functionId);
    return {
      functionId,
      appId: fn?.appId ?? "",
      functionName: fn?.name ?? "",
      queued: depth[functionId] ?? 0,
      running: running[functionId] ?? 0,
      containers: containers[functionId] ?? 0,
    };
  }));
  return {
    queues,
    workers: workers.map(({ running: _, containers: _c, busy, ...w }) => ({
      ...w,
      busy: busy ?? 0,
    })),
  };
}
