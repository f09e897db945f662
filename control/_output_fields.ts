/**
 * The two fields of an encoded `Output` that the control plane's figures need
 * (status and duration), read from the protobuf wire format without decoding
 * the rest: a map's outputs pass through by the thousand, and a full decode
 * (payload copied, error message built) cost more than the figures themselves.
 * @module
 */
import { ResultStatus } from "../proto/messages.ts";
import { readFloat64LE } from "../proto/float64.ts";

/** An output's status and run time, as its encoded bytes say. */
export interface OutputFields {
  status: ResultStatus;
  durationMs: number;
}

/** Field numbers in `message Output` (proto/nano_modal.proto). */
const STATUS_FIELD = 2;
const DURATION_FIELD = 5;

/**
 * Reads `status` and `duration_ms` of an encoded `Output`; undefined when the
 * bytes are not a well-formed message (the caller counts that as internal).
 */
export function outputFields(bytes: Uint8Array): OutputFields | undefined {
  let status = ResultStatus.UNSPECIFIED as number;
  let durationMs = 0;
  let at = 0;
  // A varint at `at`, or -1 when it runs past the end (or past 2^53).
  const varint = (): number => {
    let value = 0;
    for (let shift = 1; at < bytes.length; shift *= 128) {
      const b = bytes[at++];
      value += (b & 0x7f) * shift;
      if (b < 0x80) return value;
      if (shift > 2 ** 45) return -1;
    }
    return -1;
  };
  while (at < bytes.length) {
    const tag = varint();
    if (tag < 0) return undefined;
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const v = varint();
      if (v < 0) return undefined;
      if (field === STATUS_FIELD) status = v;
    } else if (wire === 1) {
      if (at + 8 > bytes.length) return undefined;
      if (field === DURATION_FIELD) {
        durationMs = readFloat64LE(bytes, at);
      }
      at += 8;
    } else if (wire === 2) {
      const len = varint();
      if (len < 0 || at + len > bytes.length) return undefined;
      at += len;
    } else if (wire === 5) {
      at += 4;
      if (at > bytes.length) return undefined;
    } else return undefined;
  }
  return { status, durationMs };
}
