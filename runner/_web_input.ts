/**
 * The sandbox's side of a web request: builds a `Request` from the head the
 * worker sent and the body chunks that follow it, calls the user's handler,
 * and sends the response back as a head and body chunks as they are produced
 * (so a streamed response reaches the client while the handler still writes).
 */
import type { BodyMessage, HeadMessage } from "./_protocol.ts";

/** What the worker sends as the arguments of a web input (JSON). */
export interface WebHead {
  method: string;
  /** Absolute URL whose path is the part below `/web/<app>/<function>`. */
  url: string;
  headers: [string, string][];
  /** Whether body chunks follow. */
  hasBody: boolean;
}

/** Runs the web inputs of one sandbox. */
export class WebInputs {
  readonly #send: (msg: BodyMessage | HeadMessage) => void;
  readonly #bodies = new Map<string, ReadableStreamDefaultController<Uint8Array>>();
  /** Body chunks that came before their input started (it waited in the sandbox's queue). */
  readonly #early = new Map<string, BodyMessage[]>();

  constructor(send: (msg: BodyMessage | HeadMessage) => void) {
    this.#send = send;
  }

  /** Takes a body chunk the worker forwarded. */
  body(msg: BodyMessage): void {
    const controller = this.#bodies.get(msg.id);
    if (!controller) {
      const early = this.#early.get(msg.id) ?? [];
      this.#early.set(msg.id, [...early, msg]);
      return;
    }
    try {
      if (msg.chunk) controller.enqueue(msg.chunk);
      else {
        this.#bodies.delete(msg.id);
        controller.close();
      }
    } catch {
      // The handler cancelled the body.
    }
  }

  /** Runs one request through `handler`; resolves with the status once the body is sent. */
  async run(id: string, handler: unknown, head: Uint8Array): Promise<number> {
    if (typeof handler !== "function") throw new TypeError("The web endpoint has no handler");
    const h = JSON.parse(new TextDecoder().decode(head)) as WebHead;
    let body: ReadableStream<Uint8Array> | null = null;
    if (h.hasBody) {
      body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          this.#bodies.set(id, controller);
          for (const msg of this.#early.get(id) ?? []) this.body(msg);
          this.#early.delete(id);
        },
        cancel: () => void this.#bodies.delete(id),
      });
    }
    try {
      const req = new Request(h.url, { method: h.method, headers: h.headers, body });
      const res = await handler(req);
      if (!(res instanceof Response)) {
        throw new TypeError(
          `A web endpoint must return a Response, got ${res === null ? "null" : typeof res}`,
        );
      }
      this.#send({ t: "head", id, status: res.status, headers: [...res.headers] });
      if (res.body) {
        for await (const chunk of res.body) {
          if (chunk.length) this.#send({ t: "body", id, chunk });
        }
      }
      this.#send({ t: "body", id });
      return res.status;
    } finally {
      this.#bodies.delete(id);
      this.#early.delete(id);
    }
  }
}
