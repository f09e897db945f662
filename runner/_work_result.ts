/**
 * Where an input's `Output` becomes the opaque bytes that travel unchanged to
 * the caller (the control plane stores them as they are; see the top of
 * `proto/nano_modal.proto`).
 */
import { create, toBinary } from "../proto/deps.ts";
import { writeFloat64LE } from "../proto/float64.ts";
import {
  type Output,
  OutputSchema,
  type WorkInput,
  type WorkResult,
  WorkResultSchema,
} from "../proto/messages.ts";

/** The result of `input`: its encoded output, or a request to run it again elsewhere. */
export function workResult(input: WorkInput, outcome: Output | "requeue"): WorkResult {
  const { inputId, leaseToken } = input;
  if (outcome === "requeue") {
    return create(WorkResultSchema, { inputId, leaseToken, requeue: true });
  }
  // Every field given: the literal is what create() would make, without its pass over the
  // schema (a map's results come by the thousand).
  return {
    $typeName: "nanomodal.v1.WorkResult",
    inputId,
    leaseToken,
    output: encodeOutput(outcome),
    requeue: false,
    idx: outcome.idx,
  };
}

/**
 * `toBinary(OutputSchema, output)`, written by hand for an output without an
 * error (every success: a map's outputs pass here by the thousand); the same
 * bytes, in field order, zero values left out as proto3 does. The buffer is
 * exactly their size: the store keeps a large one as it is instead of copying
 * it out (a small one stays on V8's heap: nothing here asks it for its buffer).
 */
export function encodeOutput(output: Output): Uint8Array {
  const { idx, status, payload, durationMs, error } = output;
  // An enum is an int32: a negative one takes ten bytes, as a 64-bit two's complement.
  if (
    error !== undefined || !(idx >= 0 && idx < 2 ** 32) || !Number.isInteger(status) ||
    !(status >= 0 && status < 2 ** 31)
  ) {
    return toBinary(OutputSchema, output);
  }
  const length = payload.length;
  const withDuration = !Object.is(durationMs, 0); // -0 is written, as toBinary does
  const out = new Uint8Array(
    (idx !== 0 ? 1 + varintSize(idx) : 0) + (status !== 0 ? 1 + varintSize(status) : 0) +
      (length !== 0 ? 1 + varintSize(length) + length : 0) + (withDuration ? 9 : 0),
  );
  let at = 0;
  if (idx !== 0) (out[at++] = 0x08, at = writeVarint(out, at, idx));
  if (status !== 0) (out[at++] = 0x10, at = writeVarint(out, at, status));
  if (length !== 0) {
    out[at++] = 0x1a;
    at = writeVarint(out, at, length);
    out.set(payload, at);
    at += length;
  }
  if (withDuration) {
    out[at++] = 0x29;
    writeFloat64LE(out, at, durationMs);
  }
  return out;
}

/** Bytes of `v` (under 2**32) as a varint. */
function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Writes `v` (under 2**32) as a varint at `at`; returns where it ends. */
function writeVarint(out: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    out[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[at++] = v;
  return at;
}
