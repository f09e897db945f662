/**
 * How a frame's messages are encoded (see `_framing.ts`). The first byte says which way:
 *
 * - {@linkcode JSON_TAG}: the messages as JSON, each byte array (a message's own fields, and
 *   those of objects it holds, such as an error's `value`) replaced by `{"$b": i}` and sent
 *   after the JSON: a 4-byte JSON length, the JSON, then each array as a 4-byte length and
 *   its bytes. For every message but nested calls' (all other fields are strings, numbers,
 *   booleans, arrays of strings, or absent).
 * - {@linkcode V8_TAG}: V8's serializer, for frames holding a nested call's request or reply,
 *   whose fields may be any value.
 * - {@linkcode BIN_TAG}: a frame of nothing but runs and successful results (every input of a
 *   map passes in these): each message a fixed binary record (`encodeHot`), with no JSON to
 *   build or parse on either side.
 */
import { deserialize, serialize } from "node:v8";
import type { ProtocolMessage } from "./_protocol.ts";

/** The frame's messages are JSON with byte arrays apart. */
export const JSON_TAG = 1;
/** The frame's messages are V8-serialized. */
export const V8_TAG = 0;
/** The frame's messages are runs and successful results, as binary records. */
export const BIN_TAG = 2;

/** Record kinds of a {@linkcode BIN_TAG} frame. */
const RUN = 1, DONE = 2;
/** Flags of a run record. */
const WEB = 1, MAX = 2;
/** Flags of a done record. */
const OK = 1, PAYLOAD = 2, SYNC = 4;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Whether JSON carries `message` as it is: every message but a nested call's. */
function plain(message: ProtocolMessage): boolean {
  return message.t !== "nested" && message.t !== "nested-reply";
}

/** `value` with its byte arrays (and those of objects in it, one level down) moved to `blobs`. */
function lift(value: Record<string, unknown>, blobs: Uint8Array[], depth: number): unknown {
  const out: Record<string, unknown> = {};
  for (const key in value) {
    const v = value[key];
    if (v instanceof Uint8Array) {
      out[key] = { $b: blobs.length };
      blobs.push(v);
    } else if (depth > 0 && v !== null && typeof v === "object" && !Array.isArray(v)) {
      out[key] = lift(v as Record<string, unknown>, blobs, depth - 1);
    } else {
      out[key] = v;
    }
  }
  return out;
}

/** Puts the byte arrays back where {@linkcode lift} took them. */
function land(value: Record<string, unknown>, blobs: Uint8Array[], depth: number): void {
  for (const key in value) {
    const v = value[key] as Record<string, unknown> | null;
    if (v === null || typeof v !== "object" || Array.isArray(v)) continue;
    if (typeof v.$b === "number") value[key] = blobs[v.$b];
    else if (depth > 0) land(v, blobs, depth - 1);
  }
}

/** Whether `n` fits a record's unsigned 32-bit field. */
function u32(n: number | undefined): boolean {
  return n === undefined || (Number.isInteger(n) && n >= 0 && n <= 0xffffffff);
}

/** Whether `message` has a binary record: a run, or a result without an error. */
function hot(message: ProtocolMessage): boolean {
  if (message.t === "run") return u32(message.max) && message.fn.length < 0x4000;
  return message.t === "done" && message.error === undefined && u32(message.sync);
}

/**
 * A {@linkcode BIN_TAG} frame of `group` (every message {@linkcode hot}), or undefined if an id
 * is too long for its 16-bit length. Records: a kind byte, a flags byte, the id (16-bit length,
 * UTF-8); a run then has its function name (the same), `max` if flagged, and its arguments
 * (32-bit length); a result its run time (float64), `sync` if flagged, and its payload if
 * flagged (32-bit length). Numbers are big-endian.
 */
function encodeHot(group: ProtocolMessage[]): Uint8Array | undefined {
  let size = 4 + 1;
  for (const m of group) {
    if (m.t === "run") size += 12 + 3 * (m.id.length + m.fn.length) + m.args.byteLength + 4;
    else if (m.t === "done") size += 24 + 3 * m.id.length + (m.payload?.byteLength ?? 0);
  }
  const frame = new Uint8Array(size);
  const view = new DataView(frame.buffer);
  let at = 5;
  const text = (s: string): boolean => {
    const { written } = encoder.encodeInto(s, frame.subarray(at + 2, at + 2 + 3 * s.length));
    if (written > 0xffff) return false;
    view.setUint16(at, written);
    at += 2 + written;
    return true;
  };
  const bytes = (b: Uint8Array) => {
    view.setUint32(at, b.byteLength);
    frame.set(b, at + 4);
    at += 4 + b.byteLength;
  };
  for (const m of group) {
    if (m.t === "run") {
      frame[at++] = RUN;
      frame[at++] = (m.web ? WEB : 0) | (m.max !== undefined ? MAX : 0);
      if (!text(m.id) || !text(m.fn)) return undefined;
      if (m.max !== undefined) (view.setUint32(at, m.max), at += 4);
      bytes(m.args);
    } else if (m.t === "done") {
      frame[at++] = DONE;
      frame[at++] = (m.ok ? OK : 0) | (m.payload ? PAYLOAD : 0) | (m.sync !== undefined ? SYNC : 0);
      if (!text(m.id)) return undefined;
      view.setFloat64(at, m.ms);
      at += 8;
      if (m.sync !== undefined) (view.setUint32(at, m.sync), at += 4);
      if (m.payload) bytes(m.payload);
    }
  }
  view.setUint32(0, at - 4);
  frame[4] = BIN_TAG;
  return frame.subarray(0, at);
}

/** The messages of a {@linkcode BIN_TAG} frame's body (after its length). */
function decodeHot(body: Uint8Array): ProtocolMessage[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: ProtocolMessage[] = [];
  let at = 1;
  const text = (): string => {
    const n = view.getUint16(at);
    const s = decoder.decode(body.subarray(at + 2, at + 2 + n));
    at += 2 + n;
    return s;
  };
  // Copies: the frame's buffer is reused for the next frames.
  const bytes = (): Uint8Array => {
    const n = view.getUint32(at);
    if (at + 4 + n > body.length) throw new RangeError("Protocol frame ends inside a record");
    const b = body.slice(at + 4, at + 4 + n);
    at += 4 + n;
    return b;
  };
  while (at < body.length) {
    const kind = body[at++], flags = body[at++];
    if (kind === RUN) {
      const id = text(), fn = text();
      const max = flags & MAX ? view.getUint32((at += 4) - 4) : undefined;
      const run: ProtocolMessage = { t: "run", id, fn, args: bytes() };
      if (max !== undefined) run.max = max;
      if (flags & WEB) run.web = true;
      out.push(run);
    } else if (kind === DONE) {
      const id = text();
      const ms = view.getFloat64(at);
      at += 8;
      const done: ProtocolMessage = { t: "done", id, ok: (flags & OK) !== 0, ms };
      if (flags & SYNC) done.sync = view.getUint32((at += 4) - 4);
      if (flags & PAYLOAD) done.payload = bytes();
      out.push(done);
    } else throw new RangeError(`Protocol frame holds a record of unknown kind ${kind}`);
  }
  return out;
}

/** A frame (4-byte length first) of `group`. */
export function encodeFrame(group: ProtocolMessage[]): Uint8Array {
  if (group.every(hot)) {
    const frame = encodeHot(group);
    if (frame) return frame;
  }
  if (!group.every(plain)) {
    const body = serialize(group);
    const frame = new Uint8Array(5 + body.length);
    new DataView(frame.buffer).setUint32(0, 1 + body.length);
    frame[4] = V8_TAG;
    frame.set(body, 5);
    return frame;
  }
  const blobs: Uint8Array[] = [];
  const json = encoder.encode(
    JSON.stringify(group.map((m) => lift(m as unknown as Record<string, unknown>, blobs, 1))),
  );
  let size = 1 + 4 + json.length;
  for (const b of blobs) size += 4 + b.byteLength;
  const frame = new Uint8Array(4 + size);
  const view = new DataView(frame.buffer);
  view.setUint32(0, size);
  frame[4] = JSON_TAG;
  view.setUint32(5, json.length);
  frame.set(json, 9);
  let at = 9 + json.length;
  for (const b of blobs) {
    view.setUint32(at, b.byteLength);
    frame.set(b, at + 4);
    at += 4 + b.byteLength;
  }
  return frame;
}

/** The messages of a frame's body (after its length); byte arrays in them are copies. */
export function decodeFrame(body: Uint8Array): ProtocolMessage[] {
  if (body[0] === BIN_TAG) return decodeHot(body);
  if (body[0] === V8_TAG) return deserialize(body.slice(1)) as ProtocolMessage[];
  if (body[0] !== JSON_TAG) throw new RangeError(`Protocol frame of unknown kind ${body[0]}`);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const length = view.getUint32(1);
  const messages = JSON.parse(decoder.decode(body.subarray(5, 5 + length))) as Record<
    string,
    unknown
  >[];
  const blobs: Uint8Array[] = [];
  for (let at = 5 + length; at < body.length;) {
    const n = view.getUint32(at);
    blobs.push(body.slice(at + 4, at + 4 + n));
    at += 4 + n;
  }
  if (blobs.length) { for (const m of messages) land(m, blobs, 1); }
  return messages as unknown as ProtocolMessage[];
}
