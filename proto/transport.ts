/**
 * The one way every nano-modal client (SDK sessions, workers) reaches a
 * control plane: the Connect protocol over HTTP/2 (cleartext h2c with prior
 * knowledge, or TLS for https URLs), with the bearer token on every request
 * when one is configured.
 *
 * The HTTP/2 client is Deno's own (`fetch` with an HTTP/2-only client), which
 * is full duplex for bidi streams and several times faster per call than the
 * `node:http2` compatibility layer. Streams whose requests are streams (Work,
 * Map, WebStream) reach an http server through `_nodelay_relay.ts`, which turns
 * Nagle's algorithm off (Deno's client leaves it on, and a worker's messages
 * waited 40 ms each for a delayed acknowledgement). A server on this machine's
 * loopback that announced its Unix socket (`local_socket.ts`) is reached
 * through that socket instead, by every call; its unary calls over HTTP/1.1
 * (`_unary_h1.ts`).
 * @module
 */
import {
  create,
  createConnectProtocolTransport,
  type Interceptor,
  type Transport,
  type UniversalClientFn,
} from "./deps.ts";
import { ControlService, WorkerService } from "./messages.ts";
import { unaryOverFetch } from "./_unary_fetch.ts";
import { unaryOverUnixH1 } from "./_unary_h1.ts";
import { type NoDelayRelay, startNoDelayRelay } from "./_nodelay_relay.ts";
import { localSocketFor } from "./local_socket.ts";
import { joinBytes } from "./join_bytes.ts";

/** Paths of RPCs whose request is a stream; every other request is one message. */
const STREAMING_REQUESTS = new Set(
  [ControlService, WorkerService].flatMap((service) =>
    Object.values(service.method)
      .filter((m) => m.methodKind === "bidi_streaming" || m.methodKind === "client_streaming")
      .map((m) => `/${service.typeName}/${m.name}`)
  ),
);

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
  /** The Connect transport to build clients on. */
  transport: Transport;
  /**
   * Opens the HTTP/2 connection that streams use, now, with a ping over it: a
   * client about to stream (a run's logs, a map) pays for the connection's
   * handshake while it waits anyway, not on its first stream. That handshake
   * runs on the event loop, and a client busy encoding a map's inputs gave it
   * turns only between batches: it took ~40 ms there. Failures are ignored
   * (the stream that follows reports them).
   */
  openStreams(): void;
  /** Closes the HTTP/2 connection so the process can exit. */
  close(): void;
}

async function* chunks(body: ReadableStream<Uint8Array> | null): AsyncGenerator<Uint8Array> {
  if (body) yield* body;
}

/** Joins a unary request body: one buffer goes out in one frame, a stream in several. */
async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return joinBytes(parts);
}

function denoHttp2Client(
  client: Deno.HttpClient,
  streamClient: () => Deno.HttpClient,
): UniversalClientFn {
  return async (req) => {
    const streaming = STREAMING_REQUESTS.has(new URL(req.url).pathname);
    const body = !req.body
      ? undefined
      : streaming
      ? ReadableStream.from(req.body)
      : await collect(req.body);
    const res = await fetch(
      req.url,
      {
        method: req.method,
        headers: req.header,
        body,
        signal: req.signal,
        client: streaming ? streamClient() : client,
        // Full duplex: responses stream while the request body is still being sent.
        duplex: "half",
      } as RequestInit & { client: Deno.HttpClient; duplex: "half" },
    );
    return {
      status: res.status,
      header: res.headers,
      body: chunks(res.body),
      trailer: new Headers(),
    };
  };
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
  const local = localSocketFor(url);
  const client = Deno.createHttpClient({
    http1: false,
    http2: true,
    ...(local ? { proxy: { transport: "unix", path: local } } : {}),
  });
  // Streams go through a relay with Nagle's algorithm off (see _nodelay_relay.ts), made on
  // first use; a unary call is one write, and keeps the direct connection.
  let streams: { relay: NoDelayRelay; client: Deno.HttpClient } | undefined;
  const streamClient = () => {
    // Through a Unix-socket proxy, fetch does not do TLS itself: https keeps the direct client.
    if (url.protocol === "https:" || local) return client;
    if (streams) return streams.client;
    const relay = startNoDelayRelay({
      hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: Number(url.port || 80),
    });
    const relayed = Deno.createHttpClient({
      http1: false,
      http2: true,
      proxy: { transport: "unix", path: relay.path },
    });
    streams = { relay, client: relayed };
    return relayed;
  };
  const interceptors: Interceptor[] = [];
  if (options.token) {
    const header = `Bearer ${options.token}`;
    interceptors.push((next) => (req) => {
      req.header.set("authorization", header);
      return next(req);
    });
  }
  const transport = createConnectProtocolTransport({
    httpClient: denoHttp2Client(client, streamClient),
    baseUrl: url.href.replace(/\/$/, ""),
    useBinaryFormat: true,
    interceptors,
    acceptCompression: [],
    sendCompression: null,
    compressMinBytes: Infinity,
    readMaxBytes: MAX_MESSAGE_BYTES,
    writeMaxBytes: MAX_MESSAGE_BYTES,
  });
  // Unary calls skip connect-es's generic pipeline (async iterables, envelopes, interceptors):
  // the same request and response bytes, a fraction of the work per warm call. Over this
  // machine's socket they skip HTTP/2 as well (see _unary_h1.ts).
  const authorization = options.token ? `Bearer ${options.token}` : undefined;
  const overHttp2 = unaryOverFetch({
    baseUrl: url.href.replace(/\/$/, ""),
    client,
    authorization,
    readMaxBytes: MAX_MESSAGE_BYTES,
  });
  const h1 = local
    ? unaryOverUnixH1({
      socketPath: local,
      authorization,
      readMaxBytes: MAX_MESSAGE_BYTES,
      overflow: overHttp2,
    })
    : undefined;
  const unary = h1?.unary ?? overHttp2;
  let opened = false;
  return {
    transport: { unary, stream: transport.stream.bind(transport) },
    openStreams: () => {
      if (opened) return;
      opened = true;
      const ping = unaryOverFetch({
        baseUrl: url.href.replace(/\/$/, ""),
        client: streamClient(),
        authorization,
        readMaxBytes: MAX_MESSAGE_BYTES,
      });
      const method = ControlService.method.ping;
      ping(method, undefined, 10_000, undefined, create(method.input), undefined)
        .catch(() => {});
    },
    close: () => {
      h1?.close();
      client.close();
      streams?.client.close();
      streams?.relay.close();
    },
  };
}
