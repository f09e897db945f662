import { strictEqual } from "node:assert/strict";
import { readFloat64LE, writeFloat64LE } from "./float64.ts";

Deno.test("readFloat64LE and writeFloat64LE match a little-endian DataView, at any offset", () => {
  for (const value of [0, -0, 1.5, -2.25e-300, 1e300, Number.NaN, Infinity, 0.0042]) {
    for (const at of [0, 3]) {
      const bytes = new Uint8Array(16);
      writeFloat64LE(bytes, at, value);
      const view = new DataView(bytes.buffer);
      strictEqual(Object.is(view.getFloat64(at, true), value), true, `${value} at ${at}`);
      view.setFloat64(at, value, true);
      strictEqual(Object.is(readFloat64LE(bytes, at), value), true, `${value} at ${at}`);
    }
  }
});
