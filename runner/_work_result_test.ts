import { deepEqual } from "node:assert/strict";
import { create, toBinary } from "../proto/deps.ts";
import { OutputSchema, ResultStatus } from "../proto/messages.ts";
import { encodeOutput } from "./_work_result.ts";
import { OUTPUT_CASES } from "../proto/_output_cases.ts";

Deno.test("encodeOutput writes the bytes toBinary writes", () => {
  for (const c of OUTPUT_CASES) {
    const output = create(OutputSchema, c);
    deepEqual(encodeOutput(output), toBinary(OutputSchema, output), JSON.stringify(c.idx));
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
