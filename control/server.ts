/**
 * The control plane's HTTP server: Connect RPCs on `Deno.serve`, HTTP/2
 * cleartext (prior knowledge) and HTTP/1.1 on one port.
 * @module
 */
import {
  createConnectRouter,
  createFetchHandler,
  createRouterTransport,
  type Transport,
} from "../proto/mod.ts";
import { ControlService, WorkerService } from "../proto/messages.ts";
import type { Backend } from "./backend.ts";
import { bearerAuth } from "./_auth.ts";
import { backendOutages } from "./_outages.ts";
import { createControlService } from "./control_service.ts";
import { createWorkerService, failExhausted, WorkerHub } from "./worker_service.ts";
import { clientFaultForParseErrors } from "./_parse_errors.ts";
import { WebGateway } from "./_web_gateway.ts";

/** Options for {@linkcode startServer}. */
export interface ServerOptions {
  backend: Backend;
  /** @default "127.0.0.1" */
  hostname?: string;
  /** 0 picks a free port. @default 50051 */
  port?: number;
  /** Required of every RPC when set (`Authorization: Bearer <token>`). */
  token?: string;
  /** Largest request message accepted. @default 64 MiB */
  maxMessageBytes?: number;
  /** How long a worker's lease lasts without a heartbeat. @default 30_000 */
  leaseMs?: number;
  /** How often expired leases are swept. @default 5_000 */
  sweepIntervalMs?: number;
  /** Times an input may take down its worker or sandbox. @default 3 */
  maxInfraAttempts?: number;
  /** Reported by `Ping`. */
  version?: string;
  /** The URL workers reach this server at, for web requests it holds. @default its listen URL */
  advertiseUrl?: string;
}

/** A running control plane. */
export interface ControlServer {
  /** e.g. `http://127.0.0.1:50051` */
  url: string;
  port: number;
  /**
   * A Connect transport to this server's worker service that stays in this
   * process (no sockets): what embedded workers use.
   */
  inProcessTransport(): Transport;
  close(): Promise<void>;
}

/** How long `close()` waits for open requests before giving up on them. */
const SHUTDOWN_GRACE_MS = 2_000;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** Thrown when the server would listen beyond loopback without a token. */
export class InsecureListenError extends Error {
  constructor(hostname: string) {
    super(
      `Refusing to listen on ${hostname} without a token: set NANO_MODAL_TOKEN (anyone who can reach the port could run code), or listen on 127.0.0.1`,
    );
    this.name = "InsecureListenError";
  }
}

function notFound(path: string): Response {
  return Response.json(
    { code: "not_found", message: `No RPC at ${path.slice(0, 200)}` },
    { status: 404 },
  );
}

/**
 * Starts a control plane.
 *
 * @example
 * ```ts ignore
 * import { MemoryBackend, startServer } from "./mod.ts";
 * const server = await startServer({ backend: new MemoryBackend(), port: 0 });
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
  const backend = options.backend;
  const maxInfraAttempts = options.maxInfraAttempts ?? 3;
  const hub = new WorkerHub();
  let selfUrl = "";
  const web = new WebGateway(backend, { token: options.token, selfUrl: () => selfUrl });
  const router = createConnectRouter({
    // Our clients speak the Connect protocol only; fewer parsers, less surface.
    grpc: false,
    grpcWeb: false,
    // A misspelt field in hand-written JSON is an error, not silently dropped.
    jsonOptions: { ignoreUnknownFields: false },
    readMaxBytes: options.maxMessageBytes ?? 64 * 1024 * 1024,
    interceptors: [...(options.token ? [bearerAuth(options.token)] : []), backendOutages()],
  });
  router.service(
    ControlService,
    createControlService(backend, {
      version: options.version ?? "dev",
      onAppStopped: (appId) => {
        hub.appStopped(appId);
        web.appStopped();
      },
    }),
  );
  const workerService = createWorkerService(backend, hub, {
    leaseMs: options.leaseMs,
    maxInfraAttempts,
  });
  router.service(WorkerService, workerService);
  const routes = new Map(router.handlers.map((h) => {
    const handle = createFetchHandler(h);
    // Bidi requests decode inside our handlers; the others before them (see _parse_errors.ts).
    const decodedEarly = h.method.methodKind !== "bidi_streaming";
    return [
      h.requestPath,
      decodedEarly ? (req: Request) => handle(req).then(clientFaultForParseErrors) : handle,
    ];
  }));

  const server = Deno.serve({
    hostname,
    port: options.port ?? 50051,
    onListen: () => {},
    onError: (err) => {
      console.error(`nano-modal server: ${(err as Error)?.message ?? err}`);
      return Response.json({ code: "internal", message: "internal error" }, { status: 500 });
    },
  }, (req) => {
    const path = new URL(req.url).pathname;
    // Web endpoints are public unless they ask for the token (checked by the gateway).
    if (WebGateway.owns(path)) return web.handle(req);
    const handler = routes.get(path);
    return handler ? handler(req) : notFound(path);
  });

  const sweeper = setInterval(async () => {
    try {
      const report = await backend.sweep(maxInfraAttempts);
      await failExhausted(backend, report.exhausted, maxInfraAttempts);
    } catch (err) {
      console.error(`nano-modal server: lease sweep failed: ${(err as Error).message}`);
    }
  }, options.sweepIntervalMs ?? 5_000);

  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  selfUrl = options.advertiseUrl ??
    `http://${addr.hostname === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}`;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    // Nothing outside this process can reach it, so it needs no token.
    inProcessTransport: () =>
      createRouterTransport(({ service }) => service(WorkerService, workerService)),
    async close() {
      clearInterval(sweeper);
      // Graceful, but bounded: a client that stopped reading a stream must not hold us.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        server.shutdown(),
        new Promise((r) => timer = setTimeout(r, SHUTDOWN_GRACE_MS)),
      ]);
      clearTimeout(timer);
    },
  };
}
