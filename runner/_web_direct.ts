/**
 * The worker's side of the direct web path (`WorkerService/WebStream`; the
 * control plane's side is `control/_web_peer.ts`): one long-lived stream to
 * the control plane, reopened with backoff, on which requests for endpoints
 * arrive as frames and run in warm sandboxes (`_web_run.ts`). Request body
 * chunks go into the sandbox as they come (the control plane keeps to the
 * sandbox's credit, which is relayed back), and the response's head, chunks
 * and end go out as frames batched per tick (the control plane's credit is
 * relayed to the sandbox). So the worker buffers no body of its own.
 */
import { type Client, create } from "../proto/deps.ts";
import type { Clock } from "../proto/clock.ts";
import {
  ResultStatus,
  type WebFrame,
  type WebFrames,
  WebFramesSchema,
  type WebRequestHead,
  type WorkerService,
} from "../proto/messages.ts";
import { AsyncQueue } from "../proto/async_queue.ts";
import { Deadlines } from "./_deadlines.ts";
import type { FunctionCache } from "./_functions.ts";
import { loadFailure } from "./_execute.ts";
import type { WebMessage } from "./_protocol.ts";
import { runWeb, type WebSink } from "./_web_run.ts";

const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
const HEALTHY_STREAM_MS = 10_000;

type FrameInit = Omit<WebFrame, "$typeName" | "$unknown">;

/** What the direct web path needs from its worker. */
export interface WebDirectOptions {
  functions: FunctionCache;
  clock: Clock;
  /** This worker's id: the control plane counts its open requests as its demand for containers. */
  workerId?: string;
}

/** One request in hand: where its body chunks and credit go once it started in a sandbox. */
interface Held {
  inputId: string;
  send?: (msg: WebMessage) => void;
  early: WebMessage[];
}

/** The worker's direct web stream. */
export class WebDirect {
  readonly #client: Client<typeof WorkerService>;
  readonly #options: WebDirectOptions;
  readonly #deadlines: Deadlines;
  readonly #links = new Set<WebLink>();
  #draining = false;

  constructor(client: Client<typeof WorkerService>, options: WebDirectOptions) {
    this.#client = client;
    this.#options = options;
    this.#deadlines = new Deadlines(options.clock);
  }

  /** Holds a stream until `signal` aborts, reopening it with backoff when it is lost. */
  async run(signal: AbortSignal): Promise<void> {
    const { clock } = this.#options;
    let backoffMs = FIRST_BACKOFF_MS;
    while (!signal.aborted && !this.#draining) {
      const startedMs = clock.now();
      const link = new WebLink(this.#options, this.#deadlines);
      this.#links.add(link);
      try {
        await link.open(this.#client, signal);
      } catch {
        // Lost (or this control plane has no web streams): try again after the backoff.
      } finally {
        link.close();
        this.#links.delete(link);
      }
      if (clock.now() - startedMs > HEALTHY_STREAM_MS) backoffMs = FIRST_BACKOFF_MS;
      await clock.sleep(backoffMs, signal).catch(() => {});
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    }
    this.#deadlines.stop();
  }

  /** Finishes the requests in hand, then closes the stream (new requests take the queued path). */
  async drain(): Promise<void> {
    this.#draining = true;
    await Promise.all([...this.#links].map((link) => link.drain()));
  }
}

/** One stream and the requests that came on it. */
class WebLink {
  readonly #options: WebDirectOptions;
  readonly #deadlines: Deadlines;
  readonly #held = new Map<number, Held>();
  #out?: AsyncQueue<WebFrames>;
  #frames: FrameInit[] = [];
  #scheduled = false;
  #idle?: PromiseWithResolvers<void>;

  constructor(options: WebDirectOptions, deadlines: Deadlines) {
    this.#options = options;
    this.#deadlines = deadlines;
  }

  async open(client: Client<typeof WorkerService>, signal: AbortSignal): Promise<void> {
    const out = this.#out = new AsyncQueue<WebFrames>();
    out.push(create(WebFramesSchema, {}));
    const { workerId } = this.#options;
    const headers = workerId ? { "x-nm-worker-id": workerId } : undefined;
    for await (const batch of client.webStream(out, { signal, headers })) {
      for (const f of batch.frames) this.#take(f);
    }
  }

  close(): void {
    this.#out?.close();
    // The control plane answered these already: their handlers stop sending.
    for (const held of this.#held.values()) {
      deliver(held, credit(held.inputId, -1));
      deliver(held, { t: "body", id: held.inputId });
    }
    this.#held.clear();
    this.#idle?.resolve();
  }

  async drain(): Promise<void> {
    // New requests go elsewhere (another worker, or the queue); those in hand finish.
    this.#send({ id: 0, kind: { case: "abort", value: true } });
    if (this.#held.size > 0) {
      this.#idle = Promise.withResolvers();
      await this.#idle.promise;
    }
    this.#out?.close();
  }

  #take(f: WebFrame): void {
    const k = f.kind;
    if (k.case === "request") return void this.#run(f.id, k.value);
    const held = this.#held.get(f.id);
    if (!held) return;
    const id = held.inputId;
    if (k.case === "chunk") deliver(held, { t: "body", id, chunk: k.value });
    else if (k.case === "bodyEnd") deliver(held, { t: "body", id });
    else if (k.case === "credit") deliver(held, credit(id, k.value));
    else if (k.case === "abort") {
      deliver(held, credit(id, -1));
      deliver(held, { t: "body", id });
    }
  }

  async #run(id: number, head: WebRequestHead): Promise<void> {
    const held: Held = { inputId: `${head.callId}:0`, early: [] };
    this.#held.set(id, held);
    const sink = new FrameSink(id, held, (frame) => this.#send(frame));
    const webHead = {
      method: head.method,
      url: head.url,
      headers: head.headers.map((h): [string, string] => [h.name, h.value]),
      hasBody: head.hasBody,
    };
    let status = ResultStatus.INTERNAL_FAILURE;
    let durationMs = 0;
    try {
      const fn = await this.#options.functions.get(head.functionId);
      const outcome = await runWeb(fn, {
        inputId: held.inputId,
        idx: 0,
        head: webHead,
        deadlines: this.#deadlines,
      }, sink);
      if (outcome !== "requeue") ({ status, durationMs } = outcome);
    } catch (err) {
      const failure = loadFailure(0, err);
      status = failure.status;
      sink.head(500, [["content-type", "text/plain; charset=utf-8"]]);
      sink.chunk(new TextEncoder().encode("Internal Server Error\n"));
      sink.end();
    }
    this.#held.delete(id);
    this.#send({ id, kind: { case: "end", value: { status, durationMs } } } as FrameInit);
    if (this.#held.size === 0) this.#idle?.resolve();
  }

  #send(frame: FrameInit): void {
    this.#frames.push(frame);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const frames = this.#frames;
      this.#frames = [];
      this.#out?.push(create(WebFramesSchema, { frames } as Parameters<typeof create>[1]));
    });
  }
}

/** Where one request's response goes: frames on the stream (one object, not five closures). */
class FrameSink implements WebSink {
  readonly #id: number;
  readonly #held: Held;
  readonly #send: (frame: FrameInit) => void;

  constructor(id: number, held: Held, send: (frame: FrameInit) => void) {
    this.#id = id;
    this.#held = held;
    this.#send = send;
  }

  head(status: number, headers: [string, string][]): void {
    const value = { status, headers: headers.map(([name, value]) => ({ name, value })) };
    this.#send({ id: this.#id, kind: { case: "response", value } } as FrameInit);
  }

  chunk(chunk: Uint8Array): void {
    this.#send({ id: this.#id, kind: { case: "chunk", value: chunk } });
  }

  end(failed?: boolean): void {
    if (!failed) this.#send({ id: this.#id, kind: { case: "bodyEnd", value: true } });
  }

  credit(bytes: number): void {
    this.#send({ id: this.#id, kind: { case: "credit", value: bytes } });
  }

  started(send: (msg: WebMessage) => void): void {
    this.#held.send = send;
    for (const msg of this.#held.early.splice(0)) send(msg);
  }
}

function credit(id: string, bytes: number): WebMessage {
  return { t: "credit", id, bytes };
}

/** Hands a message to the request's sandbox, or keeps it until the request starts there. */
function deliver(held: Held, msg: WebMessage): void {
  if (held.send) held.send(msg);
  else held.early.push(msg);
}
