/**
 * Where an input's `Output` becomes the opaque bytes that travel unchanged to
 * the caller (the control plane stores them as they are; see the top of
 * `proto/nano_modal.proto`).
 */
import { create, toBinary } from "../proto/deps.ts";
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
 * bytes, in field order, zero values left out as proto3 does.
 */
export function encodeOutput(output: Output): Uint8Array {
  const { idx, status, payload, durationMs, error } = output;
  if (error !== undefined || !(idx >= 0 && idx < 2 ** 32) || !Number.isInteger(status)) {
    return toBinary(OutputSchema, output);
  }
  const size = 1 + 5 + 1 + 10 + 1 + 5 + payload.length + 9;
  const out = new Uint8Array(size);
  let at = 0;
  const varint = (v: number) => {
    while (v >= 0x80) {
      out[at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    out[at++] = v;
  };
  if (idx !== 0) (out[at++] = 0x08, varint(idx));
  if (status !== 0) {
    out[at++] = 0x10;
    // An enum is an int32: a negative one takes ten bytes, as a 64-bit two's complement.
    if (status < 0) return toBinary(OutputSchema, output);
    varint(status);
  }
  if (payload.length) (out[at++] = 0x1a, varint(payload.length), out.set(payload, at));
  at += payload.length;
  if (!Object.is(durationMs, 0)) { // -0 is written, as toBinary does
    out[at++] = 0x29;
    new DataView(out.buffer, at, 8).setFloat64(0, durationMs, true);
    at += 8;
  }
  return out.subarray(0, at);
}
