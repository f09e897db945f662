/**
 * Decodes an `Output` off the wire, and nothing else: the SDK's code inside
 * sandboxes loads it on a function's first call (see sdk/_nested_calls.ts),
 * so a bundle that imports it lazily keeps only what decoding needs.
 * @module
 */
// A full specifier, as in deps.ts: the SDK resolves it without this project's deno.json.
// deno-lint-ignore no-import-prefix
import { fromBinary } from "npm:@bufbuild/protobuf@2.17.0";
import { type Output, OutputSchema } from "./gen/nano_modal_pb.ts";
import { readFloat64LE } from "./float64.ts";

/**
 * The `Output` message encoded in `bytes`: `fromBinary(OutputSchema, bytes)`, read by hand
 * when it holds only an index, a status, a payload and a duration (every success: a map's
 * client reads its outputs by the thousand, and the generic reader was a fifth of its time).
 * Anything else (an error, a field this reader does not know, a varint past 32 bits) goes to
 * `fromBinary`. As there, the payload is a view into `bytes`.
 */
export function decodeOutput(bytes: Uint8Array): Output {
  let idx = 0, status = 0, durationMs = 0;
  let payload: Uint8Array = EMPTY;
  const end = bytes.length;
  let at = 0;
  // A varint of at most five bytes and 32 bits; -1 where it is longer or runs past the end.
  const varint32 = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= end) return -1;
      const b = bytes[at++];
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value < 2 ** 32 ? value : -1;
    }
    return -1;
  };
  while (at < end) {
    const tag = bytes[at++];
    if (tag === 0x08) { // 1: idx, uint32
      idx = varint32();
      if (idx < 0) return fromBinary(OutputSchema, bytes);
    } else if (tag === 0x10) { // 2: status, an enum (int32): a negative one takes ten bytes
      status = varint32();
      if (status < 0 || status >= 2 ** 31) return fromBinary(OutputSchema, bytes);
    } else if (tag === 0x1a) { // 3: payload, bytes
      const length = varint32();
      if (length < 0 || at + length > end) return fromBinary(OutputSchema, bytes);
      payload = bytes.subarray(at, at + length);
      at += length;
    } else if (tag === 0x29) { // 5: duration_ms, double
      if (at + 8 > end) return fromBinary(OutputSchema, bytes);
      durationMs = readFloat64LE(bytes, at);
      at += 8;
    } else {
      return fromBinary(OutputSchema, bytes);
    }
  }
  // The fields in the order create() sets them, `error` left out as it leaves an unset message.
  return { $typeName: "nanomodal.v1.Output", idx, status, payload, durationMs };
}

const EMPTY = new Uint8Array(0);
