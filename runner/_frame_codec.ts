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
 */
import { deserialize, serialize } from "node:v8";
import type { ProtocolMessage } from "./_protocol.ts";

/** The frame's messages are JSON with byte arrays apart. */
export const JSON_TAG = 1;
/** The frame's messages are V8-serialized. */
export const V8_TAG = 0;

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

/** A frame (4-byte length first) of `group`. */
export function encodeFrame(group: ProtocolMessage[]): Uint8Array {
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
