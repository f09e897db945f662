/**
 * The entrypoint protocol between a worker and a sandbox, over a unix socket
 * (the sandbox needs no network). Each frame is a 4-byte big-endian length
 * and a V8-serialized array of messages, so a burst of inputs or results
 * costs one frame.
 */
import { deserialize, serialize } from "node:v8";

/** Worker → sandbox: run one input. */
export interface RunMessage {
  t: "run";
  id: string;
  fn: string;
  args: Uint8Array;
}

/** Sandbox → worker: the bundle is loaded; these functions exist. */
export interface ReadyMessage {
  t: "ready";
  functions: string[];
}

/** A thrown value, described for the caller. */
export interface ErrorDescription {
  name: string;
  message: string;
  stack: string;
  value?: Uint8Array;
}

/** Sandbox → worker: loading the bundle failed. */
export interface InitFailedMessage {
  t: "init-failed";
  error: ErrorDescription;
}

/** Sandbox → worker: one input finished. */
export interface DoneMessage {
  t: "done";
  id: string;
  ok: boolean;
  payload?: Uint8Array;
  error?: ErrorDescription;
  ms: number;
  /**
   * Set when the function wrote output: the sandbox then printed
   * {@linkcode syncMarker}(sync) on stdout and stderr after it, and the worker
   * holds the result until both markers arrive, so output precedes results.
   */
  sync?: number;
}

/** The line a sandbox prints on stdout and stderr to mark "all output before this is out". */
export function syncMarker(seq: number): string {
  return `\u0000nm-sync:${seq}\n`;
}

/** Matches sync markers in output text. */
// deno-lint-ignore no-control-regex -- the NUL byte keeps markers apart from anything printable
export const SYNC_MARKER = /\u0000nm-sync:(\d+)\n/g;

/** Any message of the protocol. */
export type ProtocolMessage = RunMessage | ReadyMessage | InitFailedMessage | DoneMessage;

/** Largest frame accepted (a corrupt length must not allocate gigabytes). */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024;

/** Writes batches of messages to a stream, coalescing bursts into one frame. */
export class FrameWriter {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending: ProtocolMessage[] = [];
  #scheduled = false;
  #chain: Promise<void> = Promise.resolve();

  constructor(stream: WritableStream<Uint8Array>) {
    this.#writer = stream.getWriter();
  }

  /** Queues a message; it is written with others queued in the same tick. */
  send(message: ProtocolMessage): void {
    this.#pending.push(message);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      const batch = this.#pending;
      this.#pending = [];
      const body = serialize(batch);
      const frame = new Uint8Array(4 + body.length);
      new DataView(frame.buffer).setUint32(0, body.length);
      frame.set(body, 4);
      this.#chain = this.#chain.then(() => this.#writer.write(frame)).catch(() => {});
    });
  }

  /** Waits for queued frames to be written. */
  async flush(): Promise<void> {
    await new Promise((r) => queueMicrotask(() => r(undefined)));
    await this.#chain;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#writer.close().catch(() => {});
  }
}

/** Reads message batches from a stream until it ends. */
export async function* readFrames(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<ProtocolMessage[]> {
  let buf: Uint8Array = new Uint8Array(0);
  for await (const chunk of stream) {
    buf = buf.length ? concat(buf, chunk) : chunk;
    while (buf.length >= 4) {
      const len = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0);
      if (len > MAX_FRAME_BYTES) {
        throw new RangeError(`Protocol frame of ${len} bytes is too large`);
      }
      if (buf.length < 4 + len) break;
      yield deserialize(buf.subarray(4, 4 + len)) as ProtocolMessage[];
      buf = buf.subarray(4 + len);
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
