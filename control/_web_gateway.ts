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
  type FunctionDef,
  FunctionDefSchema,
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

/** What the gateway needs besides the store. */
export interface WebGatewayOptions {
  /** The server token, for endpoints with `requireToken`. */
  token?: string;
  /** The URL workers reach this control plane at (known once it listens). */
  selfUrl(): string;
  /** Told of each request served on the direct path (queued ones count as inputs). */
  onDirectCall?(functionId: string, callId: string, end: WebEnd | undefined): void;
}

interface Endpoint {
  appId: string;
  functionId: string;
  def: FunctionDef;
}

/** How long a name → endpoint lookup is reused (a stop on another control plane shows after this). */
const LOOKUP_TTL_MS = 1_000;
/** Time for a queued request to reach a worker, on top of the function's timeout. */
const QUEUE_SLACK_MS = 60_000;

/** Serves web endpoints and their worker channels. */
export class WebGateway {
  readonly #store: Store;
  readonly #options: WebGatewayOptions;
  readonly #channels = new WebChannels();
  readonly #peers = new WebPeers();
  readonly #endpoints = new Map<string, { found: Promise<Endpoint | undefined>; atMs: number }>();

  constructor(store: Store, options: WebGatewayOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** Whether the request to `url` (absolute) is the gateway's. */
  static owns(url: string): boolean {
    // The path without parsing the URL: this runs for every request the server takes.
    const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    return path.startsWith("/web/") || path.startsWith("/_web/");
  }

  /** Forgets lookups once an app stopped here (others see it after the lookup TTL). */
  appStopped(): void {
    this.#endpoints.clear();
  }

  /** Serves a worker's direct web stream (`WorkerService/WebStream`). */
  workerStream(
    messages: AsyncIterable<WebFrames>,
    context: { signal: AbortSignal },
  ): AsyncIterable<WebFrames> {
    return this.#peers.serve(messages, context.signal);
  }

  /** Serves a request whose path {@linkcode WebGateway.owns}. */
  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/_web/")) return this.#channels.handle(req, url.pathname);
    const [, , appName = "", fnName = ""] = url.pathname.split("/");
    const prefix = `/web/${appName}/${fnName}`;
    const endpoint = await this.#lookup(decodeURIComponent(appName), decodeURIComponent(fnName));
    if (!endpoint) return text(404, `No web endpoint at ${prefix.slice(0, 200)}`);
    if (endpoint.def.web?.requireToken && !this.#authorized(req)) {
      return text(401, "This endpoint requires the server token: Authorization: Bearer <token>");
    }
    const rest = url.pathname.slice(prefix.length) || "/";
    const headers = [...req.headers].filter(([k]) => k !== "x-forwarded-prefix");
    headers.push(["x-forwarded-prefix", prefix]);
    // Behind the gate the server listens on a unix socket: the origin is the Host the client used.
    const target = `${origin(req, url)}${rest}${url.search}`;
    const peer = this.#peers.pick(endpoint.functionId);
    if (peer) {
      const callId = newId("fc");
      const onEnd = (end: WebEnd | undefined) =>
        this.#options.onDirectCall?.(endpoint.functionId, callId, end);
      return peer.request(
        {
          functionId: endpoint.functionId,
          callId,
          method: req.method,
          url: target,
          headers: headers.map(([name, value]) => ({ name, value }) as WebHeader),
          hasBody: req.body !== null,
        },
        req.body,
        { timeoutMs: endpoint.def.timeoutMs + QUEUE_SLACK_MS, onEnd, signal: req.signal },
      );
    }
    const channel = this.#channels.open(req.body);
    const head = {
      method: req.method,
      url: target,
      headers,
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
      this.#channels.close(channel.path);
      console.error(
        `nano-modal server: web request to ${prefix} failed: ${(err as Error).message}`,
      );
      return text(503, "Service Unavailable");
    }
    // A client that leaves: the worker's handler is stopped, and the watch closes the channel
    // once its output comes.
    req.signal.addEventListener("abort", () => this.#channels.leave(channel.path), { once: true });
    this.#watch(call, channel.path, endpoint.def.timeoutMs + QUEUE_SLACK_MS, answered.signal);
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

  #authorized(req: Request): boolean {
    const token = this.#options.token;
    if (!token) return true;
    return timingSafeEqual(req.headers.get("authorization") ?? "", `Bearer ${token}`);
  }

  #lookup(appName: string, fnName: string): Promise<Endpoint | undefined> {
    const key = `${appName}/${fnName}`;
    const cached = this.#endpoints.get(key);
    if (cached && Date.now() - cached.atMs < LOOKUP_TTL_MS) return cached.found;
    const found = this.#find(appName, fnName);
    this.#endpoints.set(key, { found, atMs: Date.now() });
    found.catch(() => this.#endpoints.delete(key));
    return found;
  }

  async #find(appName: string, fnName: string): Promise<Endpoint | undefined> {
    // A deployed name first (its current version), then the newest running app of that name.
    const deployed = await this.#store.deployments.getDeployment(appName);
    let app = deployed && !deployed.stopped
      ? await this.#store.apps.getApp(deployed.appId)
      : undefined;
    if (!app || app.stopped) {
      app = (await this.#store.apps.listApps())
        .filter((a) => a.name === appName && a.ephemeral && !a.stopped)
        .sort((a, b) => b.createdMs - a.createdMs)[0];
    }
    if (!app || app.stopped || !(fnName in app.functionIds)) return undefined;
    const record = await this.#store.apps.getFunction(app.functionIds[fnName]);
    if (!record) return undefined;
    const def = fromBinary(FunctionDefSchema, record.def);
    if (!def.web) return undefined;
    return { appId: app.appId, functionId: record.functionId, def };
  }
}

function origin(req: Request, url: URL): string {
  if (url.origin !== "null") return url.origin;
  const host = req.headers.get("host") ?? "";
  return /^[A-Za-z0-9.:[\]-]+$/.test(host) ? `http://${host}` : "http://localhost";
}
