import { deepEqual, equal, throws } from "node:assert/strict";
import { create, fromBinary, toBinary } from "./deps.ts";
import { OutputSchema } from "./messages.ts";
import { decodeOutput } from "./output_decode.ts";

// Every kind of output, as the worker encodes it: runner/_work_result_test.ts.

Deno.test("decodeOutput reads fields in any order, the last of a repeated one winning", () => {
  // idx 2, then payload [9], then idx 7 again, then a duration of 1.5.
  const duration = new Uint8Array(8);
  new DataView(duration.buffer).setFloat64(0, 1.5, true);
  const bytes = new Uint8Array([0x08, 2, 0x1a, 1, 9, 0x08, 7, 0x29, ...duration]);
  const out = decodeOutput(bytes);
  deepEqual(out, fromBinary(OutputSchema, bytes));
  equal(out.idx, 7);
  equal(out.durationMs, 1.5);
  deepEqual([...out.payload], [9]);
});

Deno.test("decodeOutput's payload is a view into the bytes it read, as fromBinary's", () => {
  const bytes = toBinary(
    OutputSchema,
    create(OutputSchema, { idx: 1, payload: new Uint8Array([4, 5]) }),
  );
  const out = decodeOutput(bytes);
  equal(out.payload.buffer, bytes.buffer);
});

Deno.test("decodeOutput leaves unknown fields and cut-short bytes to fromBinary", () => {
  // An unknown field (6, varint) is kept by fromBinary as such.
  const unknown = new Uint8Array([0x08, 1, 0x30, 5]);
  deepEqual(decodeOutput(unknown), fromBinary(OutputSchema, unknown));
  // A payload longer than what is left, a duration cut short, a varint that never ends.
  for (const bad of [[0x1a, 5, 1, 2], [0x29, 0, 0, 0], [0x08, 0xff, 0xff]]) {
    const bytes = new Uint8Array(bad);
    throws(() => fromBinary(OutputSchema, bytes));
    throws(() => decodeOutput(bytes));
  }
});
