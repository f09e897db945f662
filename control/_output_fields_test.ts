import { deepEqual, equal } from "node:assert/strict";
import { create, toBinary } from "../proto/deps.ts";
import { OutputSchema, ResultStatus } from "../proto/messages.ts";
import { outputFields } from "./_output_fields.ts";

const encode = (o: Parameters<typeof create<typeof OutputSchema>>[1]) =>
  toBinary(OutputSchema, create(OutputSchema, o));

Deno.test("outputFields reads status and duration as a full decode would", () => {
  const cases = [
    { idx: 0 },
    {
      idx: 7,
      status: ResultStatus.SUCCESS,
      payload: new Uint8Array(300).fill(9),
      durationMs: 0.25,
    },
    { idx: 2 ** 31, status: ResultStatus.TIMEOUT, durationMs: 30_000 },
    {
      idx: 3,
      status: ResultStatus.FAILURE,
      error: { name: "Error", message: "x".repeat(1000), stack: "at f" },
      durationMs: 12.5,
    },
    { idx: 1, status: ResultStatus.INTERNAL_FAILURE },
  ];
  for (const c of cases) {
    deepEqual(outputFields(encode(c)), {
      status: c.status ?? ResultStatus.UNSPECIFIED,
      durationMs: c.durationMs ?? 0,
    });
  }
});

Deno.test("outputFields reads a view into a larger buffer at its own offset", () => {
  const bytes = encode({ idx: 5, status: ResultStatus.FAILURE, durationMs: 3 });
  const big = new Uint8Array(bytes.length + 10);
  big.set(bytes, 7);
  deepEqual(outputFields(big.subarray(7, 7 + bytes.length)), {
    status: ResultStatus.FAILURE,
    durationMs: 3,
  });
});

Deno.test("outputFields gives undefined for bytes that are not an Output", () => {
  const good = encode({ idx: 1, payload: new Uint8Array(50), durationMs: 1 });
  equal(outputFields(good.subarray(0, good.length - 3)), undefined, "cut short");
  equal(outputFields(new Uint8Array([0xff, 0xff, 0xff])), undefined, "a varint that never ends");
  equal(outputFields(new Uint8Array([0x0b])), undefined, "a group (wire type 3)");
});
