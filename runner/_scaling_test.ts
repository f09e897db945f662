import { strictEqual } from "node:assert/strict";
import { warmTarget } from "./_scaling.ts";

Deno.test("warmTarget keeps minContainers while idle, busy + buffer while busy, capped at max", () => {
  strictEqual(warmTarget({ min: 2, buffer: 3, max: 10, busy: 0 }), 2);
  strictEqual(warmTarget({ min: 0, buffer: 0, max: 10, busy: 3 }), 3);
  strictEqual(warmTarget({ min: 0, buffer: 2, max: 10, busy: 3 }), 5);
  strictEqual(warmTarget({ min: 6, buffer: 2, max: 10, busy: 3 }), 6);
  strictEqual(warmTarget({ min: 0, buffer: 5, max: 4, busy: 2 }), 4);
  strictEqual(warmTarget({ min: 3, buffer: 0, max: 0, busy: 0 }), 1);
});
