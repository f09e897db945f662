/**
 * The one way every nano-modal client (SDK sessions, workers) reaches a
 * control plane: Connect over HTTP/2 (cleartext h2c, or TLS for https URLs),
 * with the bearer token on every request when one is configured.
 * @module
 */
import type { Interceptor, Transport } from "./deps.ts";
import { createConnectTransport, Http2SessionManager } from "./deps.ts";

/** Largest message either side sends or accepts. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Options for {@linkcode createRpcTransport}. */
export interface RpcTransportOptions {
  /** The control plane, e.g. `http://127.0.0.1:50051`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string;
}

/** A transport plus the means to close its connection. */
export interface RpcTransport {
  transport: Transport;
  /** Closes the HTTP/2 connection so the process can exit. */
  close(): void;
}

/**
 * Creates a Connect transport to a control plane.
 *
 * @example
 * ```ts
 * import { createRpcTransport } from "./transport.ts";
 * const { close } = createRpcTransport({ baseUrl: "http://127.0.0.1:50051" });
 * close();
 * ```
 */
export function createRpcTransport(options: RpcTransportOptions): RpcTransport {
  const url = new URL(options.baseUrl);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`Server URL must start with http:// or https://, got ${options.baseUrl}`);
  }
  const sessionManager = new Http2SessionManager(url, {
    pingIntervalMs: 15_000,
    pingTimeoutMs: 10_000,
  });
  const interceptors: Interceptor[] = [];
  if (options.token) {
    const header = `Bearer ${options.token}`;
    interceptors.push((next) => (req) => {
      req.header.set("authorization", header);
      return next(req);
    });
  }
  const transport = createConnectTransport({
    baseUrl: url.href.replace(/\/$/, ""),
    httpVersion: "2",
    sessionManager,
    interceptors,
    readMaxBytes: MAX_MESSAGE_BYTES,
    writeMaxBytes: MAX_MESSAGE_BYTES,
  });
  return { transport, close: () => sessionManager.abort() };
}
