/**
 * Web requests this control plane holds open while a worker runs them. Each
 * one has a channel, `/_web/<id>/<secret>`: the worker that leased the input
 * reads the request body from `<channel>/body` and posts the response, its
 * status and headers in `x-nm-status`/`x-nm-headers`, with a streaming body to
 * `<channel>/response`. The secret makes the channel a capability for that
 * one request, so the routes need no token. While the handler runs, the
 * worker also holds `GET <channel>/gone` open: it answers "gone" if the
 * client leaves before its response (the worker then stops the handler).
 */
import { timingSafeEqual } from "./_auth.ts";
import { randomHex } from "./_ids.ts";

/** One request waiting for its response. */
interface Pending {
  secret: string;
  body: ReadableStream<Uint8Array> | null;
  bodyTaken: boolean;
  response: PromiseWithResolvers<Response>;
  answered: boolean;
  /** The client left before its response. */
  left: boolean;
  /** The worker's `/gone` waits: true once the client left, false once the request is over. */
  gone?: PromiseWithResolvers<boolean>;
}

/** Response headers that belong to one hop, not to the handler's response. */
export const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "upgrade",
  "proxy-connection",
]);
/** Statuses whose responses have no body. */
export const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** The open web requests of this control plane. */
export class WebChannels {
  readonly #pending = new Map<string, Pending>();

  /** Opens a channel for a request; `path` is what the worker appends to the server URL. */
  open(body: ReadableStream<Uint8Array> | null): { path: string; response: Promise<Response> } {
    const id = randomHex(12);
    const secret = randomHex(16);
    const response = Promise.withResolvers<Response>();
    this.#pending.set(id, {
      secret,
      body,
      bodyTaken: body === null,
      response,
      answered: false,
      left: false,
    });
    return { path: `/_web/${id}/${secret}`, response: response.promise };
  }

  /** Answers a request without its handler (an error, a timeout); false if already answered. */
  answer(path: string, response: Response): boolean {
    const p = this.#find(path);
    if (!p || p.answered) return false;
    p.answered = true;
    p.response.resolve(response);
    this.#forget(path.split("/")[2], p);
    return true;
  }

  /**
   * The client left before its response: it gets none, and the worker's `/gone` learns it.
   * The channel stays until {@linkcode WebChannels.close}, so a worker that asks later learns too.
   */
  leave(path: string): void {
    const p = this.#find(path);
    if (!p || p.answered) return;
    p.left = true;
    p.answered = true;
    p.response.resolve(text(499, "Client Closed Request"));
    p.gone?.resolve(true);
  }

  /** Closes a channel for good (the request ended). */
  close(path: string): void {
    const id = path.split("/")[2];
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    p.gone?.resolve(false);
    if (!p.bodyTaken) p.body?.cancel().catch(() => {});
  }

  /** Serves `/_web/<id>/<secret>/(body|response)` for workers. */
  async handle(req: Request, path: string): Promise<Response> {
    const [, , id, secret, what] = path.split("/");
    const p = this.#pending.get(id ?? "");
    if (!p || !timingSafeEqual(p.secret, secret ?? "")) {
      return text(404, "No such web request: it ended or was answered");
    }
    if (what === "body" && req.method === "GET") {
      if (p.bodyTaken) return text(410, "The request body was already read");
      p.bodyTaken = true;
      this.#forget(id, p);
      return new Response(p.body);
    }
    if (what === "gone" && req.method === "GET") {
      p.gone ??= Promise.withResolvers();
      if (p.left) p.gone.resolve(true);
      return await p.gone.promise ? text(200, "gone") : new Response(null, { status: 204 });
    }
    if (what === "response" && req.method === "POST") {
      if (p.answered) {
        await req.body?.cancel();
        return text(409, "The request was already answered");
      }
      const status = Number(req.headers.get("x-nm-status"));
      let headers: [string, string][];
      try {
        headers = JSON.parse(req.headers.get("x-nm-headers") ?? "[]");
        if (!(status >= 100 && status <= 599)) throw new RangeError();
      } catch {
        return text(400, "x-nm-status or x-nm-headers is malformed");
      }
      const kept = new Headers(headers.filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
      p.answered = true;
      this.#forget(id, p);
      if (NULL_BODY.has(status) || !req.body) {
        p.response.resolve(new Response(null, { status, headers: kept }));
        await req.body?.cancel();
        return new Response(null, { status: 204 });
      }
      // Hold the worker's upload open until the client has the whole body.
      const ended = Promise.withResolvers<void>();
      const relay = new TransformStream<Uint8Array, Uint8Array>({ flush: () => ended.resolve() });
      req.body.pipeTo(relay.writable).catch(() => {}).finally(() => ended.resolve());
      p.response.resolve(new Response(relay.readable, { status, headers: kept }));
      await ended.promise;
      return new Response(null, { status: 204 });
    }
    return text(405, "Use GET .../body, GET .../gone or POST .../response");
  }

  #find(path: string): Pending | undefined {
    return this.#pending.get(path.split("/")[2] ?? "");
  }

  /** Drops a request once nothing more can come for it. */
  #forget(id: string, p: Pending): void {
    if (!p.answered || !p.bodyTaken || p.left) return;
    this.#pending.delete(id);
    p.gone?.resolve(false);
  }
}

/** A short plain-text response. */
export function text(status: number, body: string): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
