/**
 * Test support: `Output` messages of every shape the hand-written encoder (runner/_work_result.ts)
 * and decoder (output_decode.ts) must treat as protobuf does: zero and extreme indexes, empty and
 * long payloads, -0 and NaN durations, an error, and statuses outside int32's positive range.
 * @module
 */
import type { MessageInitShape } from "./deps.ts";
import { type OutputSchema, ResultStatus } from "./messages.ts";

/** The cases, as `create(OutputSchema, c)` takes them. */
export const OUTPUT_CASES: MessageInitShape<typeof OutputSchema>[] = [
  {},
  { idx: 0, status: ResultStatus.SUCCESS },
  { idx: 1, status: ResultStatus.SUCCESS, payload: new Uint8Array([1, 2, 3]), durationMs: 0.0042 },
  { idx: 127, payload: new Uint8Array(127).fill(7), durationMs: -0 },
  { idx: 128, payload: new Uint8Array(128).fill(8), durationMs: 1e300 },
  { idx: 2 ** 32 - 1, status: ResultStatus.TIMEOUT, durationMs: Number.NaN },
  { idx: 16_384, payload: new Uint8Array(70_000).fill(1), durationMs: 12 },
  { idx: 3, status: ResultStatus.FAILURE, error: { name: "E", message: "m", stack: "s" } },
  { idx: 4, status: -1 as ResultStatus },
  { idx: 5, status: (2 ** 31 - 1) as ResultStatus, durationMs: 3 },
];
