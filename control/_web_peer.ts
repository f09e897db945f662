/**
 * One worker's direct web stream (`WorkerService/WebStream`), the control
 * plane's side; the worker's is `runner/_web_direct.ts`. Requests go out as
 * frames, batched per tick, with their bodies in chunks within the worker's
 * credit; responses come back as frames and stream to the client, credited to
 * the worker as the client takes them.
 */
import { create } from "../proto/deps.ts";
import {
  type WebEnd,
  type WebFrame,
  type WebFrames,
  WebFramesSchema,
  type WebRequestHead,
} from "../proto/messages.ts";
import { AsyncQueue } from "../proto/async_queue.ts";
import { CreditStream, CreditWindow, pieces } from "../proto/credit_stream.ts";
import { HOP_BY_HOP, NULL_BODY, text } from "./_web_channel.ts";

type FrameInit = Omit<WebFrame, "$typeName" | "$unknown">;

/** A request on the stream, waiting for or streaming its response. */
interface Pending {
  response: PromiseWithResolvers<Response>;
  answered: boolean;
  head?: { status: number; headers: [string, string][] };
  body?: CreditStream;
  /** The request body's credit at the worker. */
  window?: CreditWindow;
  /** When it times out, on the monotonic `performance.now()` clock. */
  deadlineMs: number;
  onEnd: (end: WebEnd | undefined) => void;
}

/** The control plane's end of one worker's web stream. */
export class WebPeer {
  /** Frames for the worker, as the RPC sends them. */
  readonly out: AsyncQueue<WebFrames> = new AsyncQueue<WebFrames>();
  readonly #pending = new Map<number, Pending>();
  #frames: FrameInit[] = [];
  #scheduled = false;
  #next = 0;
  #closed = false;
  #draining = false;

  /** Requests open on this stream. */
  get load(): number {
    return this.#pending.size;
  }

  /** Whether the stream ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether it takes new requests (it is open and its worker is not draining). */
  get open(): boolean {
    return !this.#closed && !this.#draining;
  }

  /**
   * Sends a request to the worker; resolves with the response once its head
   * arrives. `onEnd` learns how it ended (undefined: the stream broke).
   */
  request(
    head: Omit<WebRequestHead, "$typeName" | "$unknown">,
    body: ReadableStream<Uint8Array> | null,
    options: {
      timeoutMs: number;
      onEnd: (end: WebEnd | undefined) => void;
      /** Aborts when the client leaves: before the head, the worker stops the handler. */
      signal?: AbortSignal;
    },
  ): Promise<Response> {
    const id = this.#next = (this.#next + 1) >>> 0;
    const p: Pending = {
      response: Promise.withResolvers<Response>(),
      answered: false,
      deadlineMs: performance.now() + options.timeoutMs,
      onEnd: options.onEnd,
    };
    this.#pending.set(id, p);
    this.#send({
      id,
      kind: { case: "request", value: { ...head, hasBody: body !== null } as WebRequestHead },
    });
    if (body) {
      p.window = new CreditWindow();
      this.#sendBody(id, body, p.window);
    }
    // After the head, a client that leaves cancels the body's stream, which tells the worker.
    options.signal?.addEventListener("abort", () => {
      if (p.answered || this.#pending.get(id) !== p) return;
      this.#abort(id);
      p.answered = true;
      p.response.resolve(text(499, "Client Closed Request"));
    }, { once: true });
    return p.response.promise;
  }

  /** Takes a batch of frames from the worker. */
  take(batch: WebFrames): void {
    const headed: number[] = [];
    for (const f of batch.frames) {
      if (f.id === 0 && f.kind.case === "abort") this.#draining = true;
      const p = this.#pending.get(f.id);
      if (!p) continue;
      const k = f.kind;
      if (k.case === "response") {
        const headers = k.value.headers.map((h): [string, string] => [h.name, h.value]);
        p.head = { status: k.value.status, headers };
        p.body = new CreditStream(
          (bytes) => this.#send({ id: f.id, kind: { case: "credit", value: bytes } }),
          () => this.#abort(f.id),
        );
        headed.push(f.id);
      } else if (k.case === "chunk") p.body?.push(k.value);
      else if (k.case === "bodyEnd") p.body?.end();
      else if (k.case === "credit") p.window?.grant(k.value);
      else if (k.case === "end") this.#end(f.id, p, k.value);
    }
    for (const id of headed) {
      const p = this.#pending.get(id);
      if (p) this.#answer(p);
    }
  }

  /** Answers requests past their deadline with 504 and tells the worker to stop them. */
  sweep(nowMs: number): void {
    for (const [id, p] of this.#pending) {
      if (p.deadlineMs > nowMs) continue;
      this.#abort(id);
      this.#end(id, p, undefined, text(504, "Gateway Timeout"));
    }
  }

  /**
   * The stream ended: open requests fail (502 before their head, a broken body after).
   * With `error` (bad input from the worker), the stream ends with it.
   */
  close(error?: unknown): void {
    this.#closed = true;
    for (const [id, p] of this.#pending) this.#end(id, p, undefined);
    this.out.close(error);
  }

  /** Resolves the client's response from the head (and, when it all came at once, the body). */
  #answer(p: Pending): void {
    if (p.answered || !p.head || !p.body) return;
    p.answered = true;
    const { status } = p.head;
    const headers = new Headers(p.head.headers.filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
    if (NULL_BODY.has(status)) {
      p.body.end();
      p.response.resolve(new Response(null, { status, headers }));
    } else if (p.body.ended && p.body.queued.length <= 1) {
      // The whole body is here: a fixed-length response costs the client less than a stream.
      p.response.resolve(new Response(p.body.queued[0] as BodyInit ?? null, { status, headers }));
    } else p.response.resolve(new Response(p.body.readable, { status, headers }));
  }

  #end(id: number, p: Pending, end: WebEnd | undefined, fallback?: Response): void {
    this.#pending.delete(id);
    p.window?.close();
    if (!p.answered) this.#answer(p);
    if (!p.answered) {
      p.answered = true;
      p.response.resolve(fallback ?? text(502, "Bad Gateway"));
    }
    if (p.body && !p.body.ended) p.body.end(new Error("The response broke off"));
    p.onEnd(end);
  }

  /** Tells the worker to stop a request (its client left, or it timed out here). */
  #abort(id: number): void {
    if (this.#pending.has(id)) this.#send({ id, kind: { case: "abort", value: true } });
  }

  async #sendBody(id: number, body: ReadableStream<Uint8Array>, window: CreditWindow) {
    const reader = body.getReader();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const chunk of pieces(value)) {
          if (!await window.spend(chunk.byteLength)) return void reader.cancel().catch(() => {});
          this.#send({ id, kind: { case: "chunk", value: chunk } });
        }
      }
      this.#send({ id, kind: { case: "bodyEnd", value: true } });
    } catch {
      // The client left mid-body.
      this.#abort(id);
    }
  }

  #send(frame: FrameInit): void {
    if (this.#closed) return;
    this.#frames.push(frame);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const frames = this.#frames;
      this.#frames = [];
      this.out.push(create(WebFramesSchema, { frames } as Parameters<typeof create>[1]));
    });
  }
}
