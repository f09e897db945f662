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
  return create(WorkResultSchema, {
    inputId,
    leaseToken,
    output: toBinary(OutputSchema, outcome),
    idx: outcome.idx,
  });
}
