/**
 * The control plane's view of the cluster, read over the wire with the
 * `GetStats` and `ListApps` RPCs: what `nano-modal status` prints and what
 * the autoscaler follows.
 * @module
 */
import { createClient } from "../proto/deps.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { ControlService } from "../proto/messages.ts";
import type { ClusterStats } from "./autoscaler.ts";

/** A worker in `nano-modal status --json`. */
export interface StatusWorker {
  /** The worker's id. */
  id: string;
  /** Where it runs. */
  host: string;
  /** "docker" or "deno". */
  runner: string;
  /** Inputs it takes at once. */
  capacity: number;
  /** Inputs it holds now (about a second old). */
  busy: number;
  /** Milliseconds since the epoch. */
  lastHeartbeatMs: number;
}

/** A function with queued or running inputs. */
export interface StatusFunction {
  /** The app's id. */
  appId: string;
  /** The app's name. */
  app: string;
  /** The function's name. */
  function: string;
  /** The function's id. */
  functionId: string;
  /** Inputs waiting for a worker. */
  queued: number;
  /** Inputs held by workers. */
  running: number;
  /** Warm containers of the function on live workers (idle, busy or starting). */
  containers: number;
}

/** An app the control plane knows. */
export interface StatusApp {
  /** The app's id. */
  id: string;
  /** The app's name. */
  name: string;
  /** A `nano-modal run` (ephemeral) or a deployment. */
  kind: "ephemeral" | "deployed";
  /** Whether it still takes calls. */
  state: "running" | "stopped";
  /** When it was created (ms since the epoch). */
  createdMs: number;
}

/** The whole picture: the object `nano-modal status --json` prints. */
export interface ClusterStatus {
  /** Live workers. */
  workers: StatusWorker[];
  /** Functions with inputs waiting or running. */
  functions: StatusFunction[];
  /** Every app the control plane knows. */
  apps: StatusApp[];
}

/** A client of one control plane's stats; close it when done. */
export interface StatsClient {
  /** Workers, functions and apps (two RPCs). */
  status(): Promise<ClusterStatus>;
  /** Just what the autoscaler needs (one RPC). */
  stats(): Promise<ClusterStats>;
  /** Tells the control plane about a scaling decision (best effort: errors are dropped). */
  reportScaling(decision: { from: number; to: number; reason: string }): void;
  /** Closes the connection. */
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
    reportScaling({ from, to, reason }) {
      client.reportScaling({ from, to, reason }, { timeoutMs: 10_000 }).catch(() => {});
    },
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
          containers: q.containers,
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
