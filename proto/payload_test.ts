import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { decodeValue, encodeValue, UnsendableValueError } from "./payload.ts";

Deno.test("encodeValue() uses JSON for plain data and V8 for everything else", () => {
  strictEqual(encodeValue([1, "a", { b: null }])[0], 0x4a);
  for (const v of [new Date(0), new Map(), 1n, undefined, NaN, -0, [1, , 3], new Uint8Array(2)]) {
    strictEqual(encodeValue(v)[0], 0x56, String(v));
  }
});

Deno.test("values round-trip with structured-clone fidelity", () => {
  const value = {
    date: new Date(123),
    map: new Map<unknown, unknown>([[1, new Set(["x"])]]),
    big: -(2n ** 70n),
    bytes: new Uint16Array([1, 65535]),
    err: new RangeError("out"),
    nested: [{ deep: [undefined, Infinity, -0] }],
  };
  const back = decodeValue(encodeValue(value)) as typeof value;
  deepStrictEqual(back.date, value.date);
  ok(back.map.get(1) instanceof Set);
  strictEqual(back.big, value.big);
  deepStrictEqual(back.bytes, value.bytes);
  ok(back.err instanceof RangeError && back.err.message === "out");
  ok(Object.is(back.nested[0].deep[2], -0));
});

Deno.test("cyclic values survive", () => {
  const a: Record<string, unknown> = { name: "a" };
  a.self = a;
  const back = decodeValue(encodeValue(a)) as Record<string, unknown>;
  strictEqual(back.self, back);
});

Deno.test("functions, symbols and class instances are refused with where they are", () => {
  class Point {
    x = 1;
  }
  throws(
    () => encodeValue({ a: [1, () => 2] }),
    (e: Error) => e instanceof UnsendableValueError && /a function .* at a\[1\]/.test(e.message),
  );
  throws(() => encodeValue([Symbol("s")]), /a symbol \(Symbol\(s\)\) at \[0\]/);
  throws(
    () => encodeValue({ p: new Point() }),
    /instance of class Point at p: it would arrive as a plain object/,
  );
  throws(() => encodeValue(new Map([["k", new Point()]])), /class Point at \.get\("k"\)/);
});

Deno.test("decodeValue() rejects an unknown encoding tag", () => {
  throws(() => decodeValue(new Uint8Array([0x51, 1])), RangeError);
  strictEqual(decodeValue(new Uint8Array()), undefined);
});

Deno.test("encodeValue() refuses a value nested 100k deep with one line that says to flatten it", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  throws(
    () => encodeValue(deep, "args"),
    (e: Error) =>
      e.name === "UnsendableValueError" && /nested more than 1000 levels deep/.test(e.message) &&
      /flatten it/.test(e.message) && e.message.length < 400,
  );
  let fine: unknown = "leaf";
  for (let i = 0; i < 999; i++) fine = { next: fine };
  deepStrictEqual(decodeValue(encodeValue(fine)), fine);
});

Deno.test("flat arrays and primitives take JSON exactly when the full check would", () => {
  class Args extends Array {}
  const sparse = [1, , 3];
  const cases: unknown[] = [
    [],
    [1, "a", true, null, 2.5],
    [-0],
    [Number.NaN],
    [Infinity],
    [undefined],
    [1n],
    sparse,
    [[1]],
    [{ a: 1 }],
    "text",
    0,
    -0,
    null,
    undefined,
  ];
  for (const value of cases) {
    const bytes = encodeValue(value);
    const viaV8 = bytes[0] === 0x56;
    // JSON only where JSON gives the value back as it was.
    if (!viaV8) deepStrictEqual(JSON.parse(new TextDecoder().decode(bytes.subarray(1))), value);
    deepStrictEqual(decodeValue(bytes), value);
  }
  strictEqual(encodeValue([-0])[0], 0x56, "-0 keeps its sign through V8");
  strictEqual(encodeValue([1, "a"])[0], 0x4a);
  strictEqual(encodeValue(sparse)[0], 0x56, "a hole is not a null");
  throws(() => encodeValue(Args.from([1])), /an instance of class Args/);
});
