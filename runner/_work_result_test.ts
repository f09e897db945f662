import { deepEqual } from "node:assert/strict";
import { create, fromBinary, type MessageInitShape, toBinary } from "../proto/deps.ts";
import { OutputSchema, ResultStatus } from "../proto/messages.ts";
import { decodeOutput } from "../proto/output_decode.ts";
import { encodeOutput } from "./_work_result.ts";

/** Outputs of every shape the hand-written encoder and decoder must treat as protobuf does. */
const OUTPUT_CASES: MessageInitShape<typeof OutputSchema>[] = [
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

Deno.test("encodeOutput writes the bytes toBinary writes", () => {
  for (const c of OUTPUT_CASES) {
    const output = create(OutputSchema, c);
    deepEqual(encodeOutput(output), toBinary(OutputSchema, output), JSON.stringify(c.idx));
  }
});

Deno.test("the client's decodeOutput reads back what fromBinary reads, for every kind of output", () => {
  for (const c of OUTPUT_CASES) {
    const bytes = encodeOutput(create(OutputSchema, c));
    deepEqual(decodeOutput(bytes), fromBinary(OutputSchema, bytes), JSON.stringify(c.idx));
  }
});

Deno.test("encodeOutput's bytes fill their buffer, so the store keeps them without a copy", () => {
  for (const idx of [0, 1, 127, 128, 16_383, 16_384, 2 ** 21, 2 ** 28, 2 ** 32 - 1]) {
    for (const payload of [new Uint8Array(0), new Uint8Array(200).fill(3)]) {
      const output = create(OutputSchema, { idx, status: ResultStatus.SUCCESS, payload });
      const bytes = encodeOutput(output);
      deepEqual(bytes, toBinary(OutputSchema, output));
      deepEqual(bytes.byteLength, bytes.buffer.byteLength);
    }
  }
});
