import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { trimMappings } from "./_source_map_trim.ts";

Deno.test("trimMappings() keeps mappings unchanged when nothing is dropped", () => {
  const mappings = "AAAA,EAAE,IAAIA;;ACAA,GAAG;AAAA,KCAK";
  strictEqual(trimMappings(mappings, () => false), mappings);
});

Deno.test("trimMappings() drops one source's segments and re-encodes the others' positions", () => {
  // Line 0: col 0 -> src 0 (0,0); col 2 -> src 1 (0,0); col 4 -> src 0 (1,0).
  // Line 1: col 0 -> src 1 (3,0); col 3 -> src 0 (3,4).
  const mappings = "AAAA,ECAA,EDCA;ACEA,GDAI";
  const trimmed = trimMappings(mappings, (s) => s === 1);
  // Kept: line 0 col 0 src 0 (0,0); line 0 col 4 src 0 (1,0); line 1 col 3 src 0 (3,4).
  strictEqual(trimmed, "AAAA,IACA;GAEI");
  deepStrictEqual(trimMappings(trimmed, () => false), trimmed);
});
