/**
 * The control plane's HTTP server: Connect RPCs on `Deno.serve`, HTTP/2
 * cleartext (prior knowledge) and HTTP/1.1 on one port, behind a gate that
 * bounds how long a connection may stay silent (`_gate.ts`).
 * @module
 */
import type { Transport } from "../proto/deps.ts";
import { createDirectTransport } from "../proto/direct_transport.ts";
import { announceLocalSocket, removeStaleServerDirs } from "../proto/local_socket.ts";
import {
  ControlService,
  SecretService,
  VolumeService,
  type WebFrames,
  WorkerService,
} from "../proto/messages.ts";
import type { Store } from "./store/mod.ts";
import { type Clock, systemClock } from "../proto/clock.ts";
import { backendOutages, translate } from "./_outages.ts";
import { createControlService } from "./control_service.ts";
import { createWorkerService, WorkerHub } from "./worker_service.ts";
import { startSweeper } from "./_sweeper.ts";
import { RpcRouter } from "./_http.ts";
import { startGate } from "./_gate.ts";
import type { EventLog } from "../proto/event_log.ts";
import { ControlObserver } from "./_observer.ts";
import { createWebConsole } from "./dashboard/mod.ts";
import { type StateOptions, stateServices } from "./state_services.ts";
import { Deployments } from "./_deployments.ts";
import { watchAppHeartbeats } from "./_app_heartbeats.ts";
import { createNestedCalls } from "./_nested_calls.ts";
import { WebGateway } from "./_web_gateway.ts";
import { withInProcessWeb } from "./_web_in_process.ts";
import { startSchedules } from "./_schedules.ts";

/** Options for {@linkcode startServer}. */
export interface ServerOptions {
  /** Where the control plane keeps its state. */
  store: Store;
  /** Time for leases, deadlines and the sweeper. @default systemClock */
  clock?: Clock;
  /** The address to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** 0 picks a free port. @default 50051 */
  port?: number;
  /**
   * Required of every RPC when set (`Authorization: Bearer <token>`), checked
   * before the body is read. Opens every RPC unless `workerToken` is set.
   */
  token?: string;
  /** When set, the only token that opens `WorkerService`; `token` then opens only clients' RPCs. */
  workerToken?: string;
  /**
   * Largest request message of the RPCs that carry user data (bundles,
   * arguments, results); the others stop at 1 MiB. @default 64 MiB
   */
  maxMessageBytes?: number;
  /** A connection must send its first request's headers within this. @default 10_000 */
  headerTimeoutMs?: number;
  /** A connection silent both ways this long is closed. @default 300_000 */
  idleTimeoutMs?: number;
  /** Connections open at once; more are closed at once. @default 4_096 */
  maxConnections?: number;
  /** How long a worker's lease lasts without a heartbeat. @default 30_000 */
  leaseMs?: number;
  /** How often expired leases are swept. @default 5_000 */
  sweepIntervalMs?: number;
  /** Times an input may take down its worker or sandbox. @default 3 */
  maxInfraAttempts?: number;
  /** Reported by `Ping`. */
  version?: string;
  /** Where apps, workers and lost inputs are announced, one line each. @default silent */
  eventLog?: EventLog;
  /** How secrets are sealed and volumes limited. @default see {@linkcode StateOptions} */
  state?: StateOptions;
  /** An ephemeral app whose client is silent this long is stopped. @default 15_000 */
  appHeartbeatTimeoutMs?: number;
  /** The URL workers reach this server at, for web requests it holds. @default its listen URL */
  advertiseUrl?: string;
}

/** A running control plane. */
export interface ControlServer {
  /** e.g. `http://127.0.0.1:50051` */
  url: string;
  /** The port it listens on. */
  port: number;
  /**
   * A Connect transport to this server's worker service that stays in this
   * process (no sockets): what embedded workers use.
   * @ignore
   */
  inProcessTransport(): Transport;
  /** Stops listening and sweeping; the store stays open. */
  close(): Promise<void>;
}

/** How long `close()` waits for open requests before giving up on them. */
const SHUTDOWN_GRACE_MS = 2_000;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** Thrown when the server would listen beyond loopback without a token. */
export class InsecureListenError extends Error {
  /** Says why listening on `hostname` was refused. */
  constructor(hostname: string) {
    super(
      `Refusing to listen on ${hostname} without a token: set NANO_MODAL_TOKEN (anyone who can reach the port could run code), or listen on 127.0.0.1`,
    );
    this.name = "InsecureListenError";
  }
}

/**
 * Starts a control plane.
 *
 * @example
 * ```ts ignore
 * import { createMemoryStore, startServer } from "./mod.ts";
 * const server = await startServer({ store: createMemoryStore(), port: 0 });
 * console.log(server.url);
 * await server.close();
 * ```
 */
export function startServer(options: ServerOptions): Promise<ControlServer> {
  try {
    return Promise.resolve(listen(options));
  } catch (err) {
    return Promise.reject(err);
  }
}

function listen(options: ServerOptions): ControlServer {
  const hostname = options.hostname ?? "127.0.0.1";
  if (!options.token && !LOOPBACK.has(hostname)) throw new InsecureListenError(hostname);
  const store = options.store;
  const clock = options.clock ?? systemClock;
  const maxInfraAttempts = options.maxInfraAttempts ?? 3;
  const hub = new WorkerHub();
  let selfUrl = "";
  const observer = new ControlObserver(store, { clock, log: options.eventLog });
  const web = new WebGateway(store, {
    token: options.token,
    selfUrl: () => selfUrl,
    onDirectCall: (functionId, callId, end) => observer.webCallFinished(functionId, callId, end),
    board: hub.board,
  });
  const deployments = new Deployments(store, clock, {
    stopped: (appId) => {
      hub.appStopped(appId);
      observer.appStopped(appId);
    },
    drained: (appId) => hub.appStopped(appId, true),
  });
  const router = new RpcRouter({
    maxMessageBytes: options.maxMessageBytes ?? 64 * 1024 * 1024,
    interceptors: [backendOutages()],
    translate,
  });
  const controlService = createControlService(store, {
    version: options.version ?? "dev",
    clock,
    onAppStopped: (appId) => {
      hub.appStopped(appId);
      observer.appStopped(appId);
      web.appsChanged();
    },
    onAppCreated: (app) => {
      observer.appCreated(app);
      web.appsChanged(); // a new app of a name takes its endpoints' URLs at once
    },
    onWarm: (functionIds) => hub.warm(functionIds),
    onFunctionsStored: (functionIds, how) => hub.functionsStored(functionIds, how),
    onScaling: (decision) => observer.scaling(decision),
    apps: { deployments, clock, cancelInputs: (ids) => hub.cancel(ids) },
  });
  router.service(ControlService, controlService);
  const state = stateServices(store, options.state);
  const workerService = {
    ...createWorkerService(store, {
      hub,
      clock,
      leaseMs: options.leaseMs,
      maxInfraAttempts,
      onLogs: (appId, lines) => deployments.keepLogs(appId, lines),
      appState: (appId) => deployments.appState(appId),
      nestedCall: createNestedCalls(store, controlService, options.leaseMs ?? 30_000),
      observer,
    }),
    getSecretEnv: state.getSecretEnv,
    webStream: (
      messages: AsyncIterable<WebFrames>,
      ctx: { signal: AbortSignal; requestHeader?: Headers },
    ) => web.workerStream(messages, ctx),
  };
  router.service(WorkerService, workerService);
  router.service(SecretService, state.secretService);
  router.service(VolumeService, state.volumeService);
  const rpc = router.handler({ token: options.token, workerToken: options.workerToken });
  const webConsole = createWebConsole({
    source: { store, ...bind(observer) },
    token: options.token,
    version: options.version ?? "dev",
    metrics: () => observer.metrics.render(),
  });
  // Web endpoints are public unless they ask for the token (the gateway checks it).
  const handler = (req: Request) =>
    WebGateway.owns(req.url) ? web.handle(req) : webConsole(req) ?? rpc(req);

  // Deno.serve listens on a socket only this user can reach; the gate owns the public port.
  // Named with this process's pid: a client can tell a killed server's socket (local_socket.ts).
  const socketDir = Deno.makeTempDirSync({ prefix: `nano-modal-server-${Deno.pid}-` });
  // Those of servers killed earlier go (in the background: the start does not wait).
  removeStaleServerDirs(socketDir).catch(() => {});
  const upstreamPath = `${socketDir}/http.sock`;
  const server = Deno.serve({
    path: upstreamPath,
    onListen: () => {},
    onError: (err) => {
      console.error(`nano-modal server: ${(err as Error)?.message ?? err}`);
      return Response.json({ code: "internal", message: "internal error" }, { status: 500 });
    },
  }, handler);
  let gate;
  try {
    gate = startGate({
      hostname,
      port: options.port ?? 50051,
      upstreamPath,
      headerTimeoutMs: options.headerTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      maxConnections: options.maxConnections,
    });
  } catch (err) {
    server.shutdown().finally(() => Deno.remove(socketDir, { recursive: true }).catch(() => {}));
    throw err;
  }

  // Clients of this user on this machine may skip the TCP port and the gate.
  const withdrawSocket = announceLocalSocket(gate.addr.port, upstreamPath);
  const heartbeats = watchAppHeartbeats(store, {
    clock,
    timeoutMs: options.appHeartbeatTimeoutMs ?? 15_000,
    onStopped: (appId) => hub.appStopped(appId),
  });
  const schedules = startSchedules(store, clock);
  const sweeper = startSweeper(store, {
    clock,
    intervalMs: options.sweepIntervalMs ?? 5_000,
    maxInfraAttempts,
  });

  const addr = gate.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  selfUrl = options.advertiseUrl ??
    `http://${addr.hostname === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}`;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    // Nothing outside this process can reach it, so it needs no token.
    // Direct calls: no encoding, and nothing kept per message of the long-lived Work stream.
    inProcessTransport: () =>
      withInProcessWeb(
        createDirectTransport([[WorkerService, workerService], [
          VolumeService,
          state.volumeService,
        ]]),
        workerService.webStream,
      ),
    async close() {
      schedules.stop();
      sweeper.stop();
      heartbeats.stop();
      withdrawSocket();
      await gate.close();
      // Graceful, but bounded: a client that stopped reading a stream must not hold us.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        server.shutdown(),
        new Promise((r) => timer = setTimeout(r, SHUTDOWN_GRACE_MS)),
      ]);
      clearTimeout(timer);
      await Deno.remove(socketDir, { recursive: true }).catch(() => {});
    },
  };
}

/** The observer's figures as the dashboard reads them. */
function bind(o: ControlObserver) {
  return {
    recentCalls: () => o.recentCalls(),
    figures: (id: string) => o.figures(id),
    containers: () => o.containers(),
  };
}
