/**
 * The control plane's view of the cluster, read over the wire with the
 * `GetStats` and `ListApps` RPCs: what `nano-modal status` prints and what
 * the autoscaler follows.
 * @module
 */
import { createClient, createRpcTransport } from "../proto/mod.ts";
import { ControlService } from "../proto/messages.ts";
import type { ClusterStats } from "./autoscaler.ts";

/** A worker in `nano-modal status --json`. */
export interface StatusWorker {
  id: string;
  host: string;
  runner: string;
  capacity: number;
  busy: number;
  /** Milliseconds since the epoch. */
  lastHeartbeatMs: number;
}

/** A function with queued or running inputs. */
export interface StatusFunction {
  appId: string;
  app: string;
  function: string;
  functionId: string;
  queued: number;
  running: number;
  /** Warm containers, when workers report them (not yet: always null). */
  containers: number | null;
}

/** An app the control plane knows. */
export interface StatusApp {
  id: string;
  name: string;
  kind: "ephemeral" | "deployed";
  state: "running" | "stopped";
  createdMs: number;
}

/** The whole picture: the object `nano-modal status --json` prints. */
export interface ClusterStatus {
  workers: StatusWorker[];
  functions: StatusFunction[];
  apps: StatusApp[];
}

/** A client of one control plane's stats; close it when done. */
export interface StatsClient {
  status(): Promise<ClusterStatus>;
  /** Just what the autoscaler needs (one RPC). */
  stats(): Promise<ClusterStats>;
  close(): void;
}

/**
 * Connects to a control plane for its stats.
 *
 * @example
 * ```ts ignore
 * const client = connectStats("http://127.0.0.1:50051", { token });
 * console.log((await client.status()).workers.length);
 * client.close();
 * ```
 */
export function connectStats(serverUrl: string, options: { token?: string } = {}): StatsClient {
  const rpc = createRpcTransport({ baseUrl: serverUrl, token: options.token });
  const client = createClient(ControlService, rpc.transport);
  return {
    async stats() {
      const res = await client.getStats({}, { timeoutMs: 10_000 });
      return {
        queued: res.queues.reduce((s, q) => s + q.queued, 0),
        workers: res.workers.map((w) => ({
          workerId: w.workerId,
          hostname: w.hostname,
          capacity: w.capacity,
          busy: w.busy,
        })),
      };
    },
    async status() {
      const [stats, list] = await Promise.all([
        client.getStats({}, { timeoutMs: 10_000 }),
        client.listApps({}, { timeoutMs: 10_000 }),
      ]);
      const appNames = new Map(list.apps.map((a) => [a.appId, a.name]));
      return {
        workers: stats.workers.map((w) => ({
          id: w.workerId,
          host: w.hostname,
          runner: w.runner,
          capacity: w.capacity,
          busy: w.busy,
          lastHeartbeatMs: w.lastSeenMs,
        })),
        functions: stats.queues.map((q) => ({
          appId: q.appId,
          app: appNames.get(q.appId) ?? "",
          function: q.functionName,
          functionId: q.functionId,
          queued: q.queued,
          running: q.running,
          containers: null,
        })),
        apps: list.apps.map((a) => ({
          id: a.appId,
          name: a.name,
          kind: a.ephemeral ? "ephemeral" : "deployed",
          state: a.stopped ? "stopped" : "running",
          createdMs: a.createdMs,
        })),
      };
    },
    close: () => rpc.close(),
  };
}
