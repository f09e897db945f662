/**
 * Framing of the entrypoint protocol (see `_protocol.ts` for its messages): a
 * 4-byte big-endian length and an array of messages per frame, with the size
 * limits both sides hold to. The array is encoded one of three ways, named by
 * the frame's first byte (`_frame_codec.ts`): binary records for a frame of
 * runs and successful results (a map's inputs, both ways); JSON with its byte
 * arrays apart for the other messages of an input (~3× cheaper than V8's
 * serializer through `node:v8`); or V8's serializer for nested calls, whose
 * requests and replies may hold any value.
 */
import type { ErrorDescription, ProtocolMessage } from "./_protocol.ts";
import { decodeFrame, encodeFrame } from "./_frame_codec.ts";

/**
 * Largest result (encoded) a function may return. A wire message carries at
 * most 64 MiB (`MAX_MESSAGE_BYTES` in proto/transport.ts): a result must fit
 * in one with room to spare.
 */
export const MAX_RESULT_BYTES = 32 * 1024 * 1024;

/**
 * Largest frame accepted or written: one wire message's worth (64 MiB, for
 * arguments) plus the protocol's own fields. A longer length means a broken
 * or hostile peer, and must not allocate gigabytes.
 */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024 + 256 * 1024;

/** Rough encoded size of a message: its byte arrays and strings. */
function sizeOf(message: ProtocolMessage): number {
  const m = message as {
    args?: Uint8Array;
    payload?: Uint8Array;
    error?: Partial<ErrorDescription>;
    req?: { args?: Uint8Array };
    res?: { output?: Uint8Array };
  };
  const error = m.error;
  return 256 + (m.args?.byteLength ?? 0) + (m.payload?.byteLength ?? 0) +
    (m.req?.args?.byteLength ?? 0) + (m.res?.output?.byteLength ?? 0) +
    (error
      ? (error.value?.byteLength ?? 0) + 2 * ((error.name?.length ?? 0) +
            (error.message?.length ?? 0) + (error.stack?.length ?? 0))
      : 0);
}

/**
 * Splits `items` into runs in order whose sizes add up to at most `maxBytes`;
 * an item larger than that travels alone.
 */
export function chunkByBytes<T>(items: T[], size: (item: T) => number, maxBytes: number): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = size(item);
    if (group.length && bytes + n > maxBytes) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(item);
    bytes += n;
  }
  if (group.length) groups.push(group);
  return groups;
}

/** The side of a connection a {@linkcode FrameWriter} writes to (a `Deno.Conn`). */
export interface ByteWriter {
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** The side of a connection {@linkcode readFrames} reads from (a `Deno.Conn`). */
export interface ByteReader {
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * Writes batches of messages, coalescing a burst into one frame. It writes to
 * the connection directly rather than through a WritableStream: on the warm
 * path that halves a round trip. While a frame is being written, messages
 * sent meanwhile wait and go out together in the next one: a lone message
 * leaves at once, and a stream of them costs one write per round of the
 * event loop instead of one per message.
 */
export class FrameWriter {
  #conn: ByteWriter;
  #pending: ProtocolMessage[] = [];
  #scheduled = false;
  /** The drain writing frames now, if any; resolves when the queue is empty again. */
  #writing: Promise<void> | null = null;
  /**
   * True exactly while a drain loop runs. Cleared in the same turn that finds the queue
   * empty (not in a later `.finally`), so a message sent just after is never left unsent.
   */
  #draining = false;

  constructor(conn: ByteWriter) {
    this.#conn = conn;
  }

  /** Queues a message; it is written with others queued in the same tick. */
  send(message: ProtocolMessage): void {
    this.#pending.push(message);
    if (this.#scheduled || this.#draining) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#writing = this.#drain();
    });
  }

  /** Writes what is queued, then what was queued meanwhile, until nothing is. */
  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#pending.length) {
        const batch = this.#pending;
        this.#pending = [];
        for (const group of chunkByBytes(batch, sizeOf, MAX_FRAME_BYTES / 2)) {
          // A single message over the limit is refused by the reader, which then
          // treats the connection as broken: senders keep messages under it.
          await writeAll(this.#conn, frameOf(group)).catch(() => {});
        }
      }
    } finally {
      // In the turn that found the queue empty: a send after this schedules a new drain.
      this.#draining = false;
    }
  }

  /** Waits for queued frames to be written. */
  async flush(): Promise<void> {
    await new Promise((r) => queueMicrotask(() => r(undefined)));
    while (this.#draining) await this.#writing;
  }

  /** Flushes, then closes the connection. */
  async close(): Promise<void> {
    await this.flush();
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** One frame: the length, then the encoded messages. */
function frameOf(group: ProtocolMessage[]): Uint8Array {
  return encodeFrame(group);
}

async function writeAll(conn: ByteWriter, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) at += await conn.write(data.subarray(at));
}

/** Reads message batches from a connection until it ends. */
export async function* readFrames(conn: ByteReader): AsyncGenerator<ProtocolMessage[]> {
  let buf = new Uint8Array(64 * 1024);
  let len = 0;
  while (true) {
    if (len === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const n = await conn.read(buf.subarray(len));
    if (n === null) return;
    len += n;
    let at = 0;
    const batch: ProtocolMessage[] = [];
    while (len - at >= 4) {
      const size = new DataView(buf.buffer, at, 4).getUint32(0);
      if (size > MAX_FRAME_BYTES) {
        throw new RangeError(`Protocol frame of ${size} bytes is too large`);
      }
      if (len - at < 4 + size) {
        // Make room for the rest of a large frame at once.
        if (4 + size > buf.length) {
          const bigger = new Uint8Array(4 + size);
          bigger.set(buf.subarray(at, len));
          buf = bigger;
          len -= at;
          at = 0;
        }
        break;
      }
      // Byte arrays in the messages are copies: this buffer is reused for the next frames.
      batch.push(...decodeFrame(buf.subarray(at + 4, at + 4 + size)));
      at += 4 + size;
    }
    if (at > 0) {
      buf.copyWithin(0, at, len);
      len -= at;
    }
    if (batch.length) yield batch;
  }
}
