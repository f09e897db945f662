/**
 * Web endpoints: `/web/<app>/<function>/...` on the control plane's port.
 * When a worker connected here holds a web stream, the request goes straight
 * to it (the direct path, `_web_direct.ts`: no store write, no queue).
 * Otherwise it becomes one input of the endpoint's function (so it is leased
 * like any call, by a worker of any control plane on the store), and that
 * worker streams the bodies through this control plane's channel (see
 * `_web_channel.ts`). Either way it counts as a call. Public unless the
 * endpoint asks for the token.
 */
import { fromBinary } from "../proto/deps.ts";
import {
  OutputSchema,
  ResultStatus,
  type WebEnd,
  type WebFrames,
  type WebHeader,
} from "../proto/messages.ts";
import type { CallRecord, Store } from "./store/mod.ts";
import { timingSafeEqual } from "./_auth.ts";
import { newId } from "./_ids.ts";
import { text, WebChannels } from "./_web_channel.ts";
import { WebPeers } from "./_web_direct.ts";
import { WebLookup } from "./_web_lookup.ts";
import type { ShareBoard } from "./_share_board.ts";

/** What the gateway needs besides the store. */
export interface WebGatewayOptions {
  /** The server token, for endpoints with `requireToken`. */
  token?: string;
  /** The URL workers reach this control plane at (known once it listens). */
  selfUrl(): string;
  /** The worker streams' shares: direct web requests are demand for containers. */
  board?: ShareBoard;
  /** Told of each request served on the direct path (queued ones count as inputs). */
  onDirectCall?(functionId: string, callId: string, end: WebEnd | undefined): void;
}

/** Time for a queued request to reach a worker, on top of the function's timeout. */
const QUEUE_SLACK_MS = 60_000;
/** The route that tells `run --watch` whether an old version still serves requests. */
const IN_FLIGHT = "/_web/in-flight/";
/** The header a worker names itself by on its web stream (`runner/_web_direct.ts`). */
const WORKER_ID_HEADER = "x-nm-worker-id";

/** Serves web endpoints and their worker channels. */
export class WebGateway {
  readonly #store: Store;
  readonly #options: WebGatewayOptions;
  readonly #channels = new WebChannels();
  readonly #peers: WebPeers;
  readonly #lookup: WebLookup;
  /** Direct calls' ids: random per gateway, then a count (no random bytes per request). */
  readonly #callPrefix = newId("fc");
  #calls = 0;
  /** Requests in flight here, by app id (for `run --watch`, see {@linkcode WebGateway.inFlight}). */
  readonly #inFlight = new Map<string, { name: string; n: number }>();

  constructor(store: Store, options: WebGatewayOptions) {
    this.#store = store;
    this.#options = options;
    this.#peers = new WebPeers(options.board);
    this.#lookup = new WebLookup(store);
  }

  /** Whether the request to `url` (absolute) is the gateway's. */
  static owns(url: string): boolean {
    // The path without parsing the URL: this runs for every request the server takes.
    const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    return path.startsWith("/web/") || path.startsWith("/_web/");
  }

  /** Forgets lookups once an app started or stopped here (others see it after the lookup TTL). */
  appsChanged(): void {
    this.#lookup.appsChanged();
  }

  /** Serves a worker's direct web stream (`WorkerService/WebStream`). */
  workerStream(
    messages: AsyncIterable<WebFrames>,
    context: { signal: AbortSignal; requestHeader?: Headers },
  ): AsyncIterable<WebFrames> {
    const workerId = context.requestHeader?.get(WORKER_ID_HEADER) ?? undefined;
    return this.#peers.serve(messages, context.signal, workerId);
  }

  /** Serves a request whose path {@linkcode WebGateway.owns}. */
  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname.startsWith(IN_FLIGHT)) return this.#inFlightRoute(req, url.pathname);
    if (url.pathname.startsWith("/_web/")) return this.#channels.handle(req, url.pathname);
    const [, , appName = "", fnName = ""] = url.pathname.split("/");
    const prefix = `/web/${appName}/${fnName}`;
    const endpoint = await this.#lookup.find(
      decodeURIComponent(appName),
      decodeURIComponent(fnName),
    );
    if (!endpoint) return text(404, `No web endpoint at ${prefix.slice(0, 200)}`);
    if (endpoint.def.web?.requireToken && !this.#authorized(req)) {
      return text(401, "This endpoint requires the server token: Authorization: Bearer <token>");
    }
    const rest = url.pathname.slice(prefix.length) || "/";
    // Behind the gate the server listens on a unix socket: the origin is the Host the client used.
    const target = `${origin(req, url)}${rest}${url.search}`;
    const done = this.#started(endpoint.appId, appName);
    const peer = this.#peers.pick(endpoint.functionId);
    if (peer) {
      const callId = `${this.#callPrefix}${(this.#calls++).toString(36)}`;
      const onEnd = (end: WebEnd | undefined) => {
        done();
        this.#options.onDirectCall?.(endpoint.functionId, callId, end);
      };
      return peer.request(
        {
          functionId: endpoint.functionId,
          callId,
          method: req.method,
          url: target,
          headers: forwarded(req, prefix, (name, value) => ({ name, value }) as WebHeader),
          hasBody: req.body !== null,
        },
        req.body,
        { timeoutMs: endpoint.def.timeoutMs + QUEUE_SLACK_MS, onEnd, client: req },
      );
    }
    const channel = this.#channels.open(req.body);
    const head = {
      method: req.method,
      url: target,
      headers: forwarded(req, prefix, (name, value): [string, string] => [name, value]),
      hasBody: req.body !== null,
      channel: `${this.#options.selfUrl()}${channel.path}`,
    };
    const call: CallRecord = {
      callId: newId("fc"),
      functionId: endpoint.functionId,
      appId: endpoint.appId,
      createdMs: Date.now(),
      total: 1,
    };
    const answered = new AbortController();
    try {
      await this.#store.outputs.createCall(call);
      await this.#store.queue.enqueue([{
        inputId: `${call.callId}:0`,
        callId: call.callId,
        functionId: call.functionId,
        idx: 0,
        args: new TextEncoder().encode(JSON.stringify(head)),
        infraAttempt: 0,
      }]);
    } catch (err) {
      done();
      this.#channels.close(channel.path);
      console.error(
        `nano-modal server: web request to ${prefix} failed: ${(err as Error).message}`,
      );
      return text(503, "Service Unavailable");
    }
    // A client that leaves: the worker's handler is stopped, and the watch closes the channel
    // once its output comes.
    req.signal.addEventListener("abort", () => this.#channels.leave(channel.path), { once: true });
    this.#watch(call, channel.path, endpoint.def.timeoutMs + QUEUE_SLACK_MS, answered.signal)
      .finally(done);
    try {
      return await channel.response;
    } finally {
      if (!req.signal.aborted) answered.abort();
    }
  }

  /** Answers the request from its output when the handler's own response never came. */
  async #watch(call: CallRecord, path: string, timeoutMs: number, signal: AbortSignal) {
    const deadline = performance.now() + timeoutMs;
    try {
      while (!signal.aborted) {
        const { outputs } = await this.#store.outputs.readOutputs(call.callId, {
          cursor: 0,
          max: 1,
        });
        if (outputs.length) {
          // The worker posts the response before it reports the output: give it a moment.
          await new Promise((r) => setTimeout(r, 100));
          const status = fromBinary(OutputSchema, outputs[0].data).status;
          if (status === ResultStatus.TIMEOUT) {
            this.#channels.answer(path, text(504, "Gateway Timeout"));
          } else this.#channels.answer(path, text(500, "Internal Server Error"));
          break;
        }
        const left = deadline - performance.now();
        if (left <= 0) {
          this.#channels.answer(path, text(504, "Gateway Timeout"));
          break;
        }
        await this.#store.outputs.waitOutputs(call.callId, {
          cursor: 0,
          timeoutMs: Math.min(left, 5_000),
          signal,
        });
      }
    } catch (err) {
      console.error(`nano-modal server: web request failed: ${(err as Error).message}`);
      this.#channels.answer(path, text(503, "Service Unavailable"));
    } finally {
      this.#channels.close(path);
    }
  }

  /**
   * Requests in flight here on versions of app `name` that new requests no longer go to
   * (`run --watch` stops such a version once this is 0). Undefined: no version of it runs.
   */
  async inFlight(name: string): Promise<number | undefined> {
    const serving = await this.#lookup.currentApp(name);
    if (!serving) return undefined;
    let n = 0;
    for (const [appId, f] of this.#inFlight) {
      if (f.name === name && appId !== serving.appId) n += f.n;
    }
    return n;
  }

  /** `GET /_web/in-flight/<app>` (the server token): {@linkcode WebGateway.inFlight} as JSON. */
  async #inFlightRoute(req: Request, path: string): Promise<Response> {
    if (!this.#authorized(req) || !this.#options.token) {
      return text(401, "This route requires the server token: Authorization: Bearer <token>");
    }
    const name = decodeURIComponent(path.slice(IN_FLIGHT.length));
    return Response.json({ elsewhere: await this.inFlight(name) ?? null });
  }

  /** Counts a request of app `appId` (named `name`) in flight; call the result when it ends. */
  #started(appId: string, name: string): () => void {
    let f = this.#inFlight.get(appId);
    if (!f) this.#inFlight.set(appId, f = { name: decodeURIComponent(name), n: 0 });
    f.n++;
    const counted = f;
    return () => {
      if (--counted.n === 0 && this.#inFlight.get(appId) === counted) this.#inFlight.delete(appId);
    };
  }

  #authorized(req: Request): boolean {
    const token = this.#options.token;
    if (!token) return true;
    return timingSafeEqual(req.headers.get("authorization") ?? "", `Bearer ${token}`);
  }
}

/** The request's headers for the handler, with `x-forwarded-prefix` set to `prefix`. */
function forwarded<T>(req: Request, prefix: string, make: (name: string, value: string) => T): T[] {
  const headers: T[] = [];
  for (const [name, value] of req.headers) {
    if (name !== "x-forwarded-prefix") headers.push(make(name, value));
  }
  headers.push(make("x-forwarded-prefix", prefix));
  return headers;
}

function origin(req: Request, url: URL): string {
  if (url.origin !== "null") return url.origin;
  const host = req.headers.get("host") ?? "";
  return /^[A-Za-z0-9.:[\]-]+$/.test(host) ? `http://${host}` : "http://localhost";
}
