/**
 * The sandbox's side of a web request: builds a `Request` from the head the
 * worker sent and the body chunks that follow it, calls the user's handler,
 * and sends the response back as a head and body chunks as they are produced
 * (so a streamed response reaches the client while the handler still writes).
 *
 * Bodies are flow-controlled both ways (see proto/credit_stream.ts): the
 * request body is credited back to the worker as the handler reads it, and
 * the response body is sent only within the credit the worker grants.
 */
import { CreditStream, CreditWindow, pieces } from "../proto/credit_stream.ts";
import type { BodyMessage, CreditMessage, HeadMessage } from "./_protocol.ts";

/** What the worker sends as the arguments of a web input (JSON). */
export interface WebHead {
  method: string;
  /** Absolute URL whose path is the part below `/web/<app>/<function>`. */
  url: string;
  headers: [string, string][];
  /** Whether body chunks follow. */
  hasBody: boolean;
}

type Outgoing = BodyMessage | HeadMessage | CreditMessage;

/** Runs the web inputs of one sandbox. */
export class WebInputs {
  readonly #send: (msg: Outgoing) => void;
  readonly #bodies = new Map<string, CreditStream>();
  readonly #windows = new Map<string, CreditWindow>();
  /** Each request's signal: it aborts when the client goes away. */
  readonly #left = new Map<string, AbortController>();
  /** Messages that came before their input started (it waited in the sandbox's queue). */
  readonly #early = new Map<string, (BodyMessage | CreditMessage)[]>();
  /** Inputs that arrived and have not started yet. */
  readonly #expected = new Set<string>();

  constructor(send: (msg: Outgoing) => void) {
    this.#send = send;
  }

  /** A web input arrived: messages for it are kept until it starts. */
  expect(id: string): void {
    this.#expected.add(id);
  }

  /** Takes a body chunk or credit the worker sent. */
  take(msg: BodyMessage | CreditMessage): void {
    const body = this.#bodies.get(msg.id);
    const window = this.#windows.get(msg.id);
    if (!body && !window) {
      // Late news for a request that ended (a client that left as it was answered): dropped.
      if (!this.#expected.has(msg.id)) return;
      const early = this.#early.get(msg.id);
      if (early) early.push(msg);
      else this.#early.set(msg.id, [msg]);
      return;
    }
    if (msg.t === "credit") {
      if (msg.bytes < 0) {
        window?.close();
        body?.end(new Error("The client went away"));
        this.#left.get(msg.id)?.abort(new DOMException("The client went away", "AbortError"));
      } else window?.grant(msg.bytes);
    } else if (msg.chunk) body?.push(msg.chunk);
    else body?.end();
  }

  /** Runs one request through `handler`; resolves with the status once the body is sent. */
  async run(id: string, handler: unknown, head: Uint8Array): Promise<number> {
    this.#expected.delete(id);
    if (typeof handler !== "function") throw new TypeError("The web endpoint has no handler");
    const h = JSON.parse(new TextDecoder().decode(head)) as WebHead;
    const window = new CreditWindow();
    this.#windows.set(id, window);
    const left = new AbortController();
    this.#left.set(id, left);
    let body: CreditStream | undefined;
    if (h.hasBody) {
      body = new CreditStream((bytes) => this.#send({ t: "credit", id, bytes }));
      this.#bodies.set(id, body);
    }
    for (const msg of this.#early.get(id) ?? []) this.take(msg);
    this.#early.delete(id);
    try {
      const req = new Request(h.url, {
        method: h.method,
        headers: h.headers,
        body: body?.readable ?? null,
        signal: left.signal,
      });
      const res = await handler(req);
      if (!(res instanceof Response)) {
        throw new TypeError(
          `A web endpoint must return a Response, got ${res === null ? "null" : typeof res}`,
        );
      }
      const head: HeadMessage = { t: "head", id, status: res.status, headers: [...res.headers] };
      if (res.body) await this.#sendBody(head, res.body, window);
      else {
        this.#send(head);
        this.#send({ t: "body", id });
      }
      return res.status;
    } finally {
      this.#bodies.delete(id);
      this.#windows.delete(id);
      this.#left.delete(id);
      this.#early.delete(id);
    }
  }

  /**
   * Sends the head and the body within the worker's credit; stops if the client went away.
   * A body already complete (a string, bytes) goes out inside its head's message; a
   * streamed one does not hold the head back.
   */
  async #sendBody(head: HeadMessage, stream: ReadableStream<Uint8Array>, window: CreditWindow) {
    const id = head.id;
    const reader = stream.getReader();
    const ready: Uint8Array[] = [];
    let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
    let done = false;
    for (let i = 0; i < 2 && !done; i++) {
      pending = reader.read();
      const result = await settledSoon(pending);
      if (!result) break;
      pending = undefined;
      if (result.done) done = true;
      else ready.push(result.value);
    }
    // No releaseLock() once the body is read: it costs a TypeError (and its stack) per request.
    const whole = done && ready.length <= 1 ? ownBytes(ready[0]) : undefined;
    if (whole && window.trySpend(whole.byteLength)) return this.#send({ ...head, body: whole });
    try {
      this.#send(head);
      while (true) {
        for (const chunk of ready.splice(0).flatMap((c) => [...pieces(c)])) {
          if (!window.trySpend(chunk.byteLength) && !await window.spend(chunk.byteLength)) {
            await reader.cancel().catch(() => {});
            return;
          }
          this.#send({ t: "body", id, chunk });
        }
        if (done) break;
        const result = await (pending ?? reader.read());
        pending = undefined;
        if (result.done) break;
        ready.push(result.value);
      }
      this.#send({ t: "body", id });
    } catch (err) {
      reader.releaseLock();
      throw err;
    }
  }
}

/** `chunk` (or no bytes) as one piece with a buffer of its own; undefined if it needs more. */
function ownBytes(chunk: Uint8Array | undefined): Uint8Array | undefined {
  if (!chunk) return new Uint8Array();
  const [first, second] = pieces(chunk);
  return second ? undefined : first;
}

/** `promise`'s value if it settles within a few microtasks (an in-memory body's read does). */
async function settledSoon<T>(promise: Promise<T>): Promise<T | undefined> {
  let value: T | undefined;
  let settled = false;
  promise.then((v) => {
    value = v;
    settled = true;
  }, () => settled = true);
  for (let i = 0; i < 4 && !settled; i++) await Promise.resolve();
  return settled ? value : undefined;
}
