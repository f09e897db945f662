/**
 * Flow control for web bodies relayed in chunks (control plane ↔ worker ↔
 * sandbox): a receiver holds what arrived in a {@linkcode CreditStream} and
 * grants the sender credit only as its reader takes chunks, and a sender
 * spends a {@linkcode CreditWindow}. So a slow reader stops the sender after
 * one window, and no hop buffers more than that.
 * @module
 */

/** Bytes a body may have in flight before its receiver grants more credit. */
export const WINDOW_BYTES = 256 * 1024;
/** Largest body chunk sent in one frame: a big chunk goes in pieces. */
export const CHUNK_BYTES = 64 * 1024;

/**
 * The receiving end of a relayed body: chunks pushed in are handed to the
 * stream's reader one at a time, and `onTaken` learns each chunk's size as the
 * reader takes it (the credit to give back to the sender).
 *
 * @example
 * ```ts
 * import { CreditStream } from "./credit_stream.ts";
 * const body = new CreditStream((bytes) => console.log("credit", bytes));
 * body.push(new Uint8Array(3));
 * body.end();
 * await new Response(body.readable).arrayBuffer(); // logs "credit 3"
 * ```
 */
export class CreditStream {
  /** What the body's reader reads. */
  readonly readable: ReadableStream<Uint8Array>;
  #queue: Uint8Array[] = [];
  #ended = false;
  #error: unknown = undefined;
  #wake?: () => void;
  #cancelled = false;

  /** `onTaken(bytes)` after the reader takes a chunk; `onCancel` if the reader gives up. */
  constructor(onTaken: (bytes: number) => void, onCancel?: () => void) {
    this.readable = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        while (this.#queue.length === 0 && !this.#ended) {
          await new Promise<void>((r) => this.#wake = r);
        }
        const chunk = this.#queue.shift();
        if (chunk) {
          controller.enqueue(chunk);
          onTaken(chunk.byteLength);
        } else if (this.#error !== undefined) controller.error(this.#error);
        else controller.close();
      },
      cancel: () => {
        this.#cancelled = true;
        this.#queue = [];
        onCancel?.();
      },
    }, { highWaterMark: 0 });
  }

  /** Whether the reader cancelled the body. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Adds a chunk the sender sent (ignored once ended or cancelled). */
  push(chunk: Uint8Array): void {
    if (this.#ended || this.#cancelled) return;
    this.#queue.push(chunk);
    this.#wake?.();
  }

  /** The body is complete; with `error`, the reader gets that error after what arrived. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wake?.();
  }

  /** Chunks that arrived and were not read yet. */
  get queued(): readonly Uint8Array[] {
    return this.#queue;
  }

  /** Whether the sender ended the body. */
  get ended(): boolean {
    return this.#ended;
  }
}

/**
 * The sending end's credit: {@linkcode CreditWindow.spend} before each chunk,
 * {@linkcode CreditWindow.grant} when the receiver's credit arrives.
 */
export class CreditWindow {
  #bytes: number;
  #wake?: () => void;
  #closed = false;

  /** A window of `bytes` to start with. */
  constructor(bytes = WINDOW_BYTES) {
    this.#bytes = bytes;
  }

  /** Waits until the window is open, then takes `bytes` from it; false once closed. */
  async spend(bytes: number): Promise<boolean> {
    while (this.#bytes <= 0 && !this.#closed) await new Promise<void>((r) => this.#wake = r);
    this.#bytes -= bytes;
    return !this.#closed;
  }

  /** Takes `bytes` if the window is open now, without waiting; false if it is shut or closed. */
  trySpend(bytes: number): boolean {
    if (this.#bytes <= 0 || this.#closed) return false;
    this.#bytes -= bytes;
    return true;
  }

  /** The receiver took `bytes` more. */
  grant(bytes: number): void {
    this.#bytes += bytes;
    this.#wake?.();
  }

  /** The receiver is gone: waiting senders stop. */
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  /** Whether the receiver is gone. */
  get closed(): boolean {
    return this.#closed;
  }
}

/**
 * Yields `chunk` in pieces of at most {@linkcode CHUNK_BYTES}, each with a
 * buffer of its own (V8's serializer would otherwise write a view's whole buffer).
 */
export function* pieces(chunk: Uint8Array): Generator<Uint8Array> {
  const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
  if (whole && chunk.byteLength <= CHUNK_BYTES) {
    yield chunk;
    return;
  }
  for (let at = 0; at < chunk.byteLength; at += CHUNK_BYTES) {
    yield chunk.slice(at, at + CHUNK_BYTES);
  }
}
