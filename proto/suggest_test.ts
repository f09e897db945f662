import { strictEqual } from "node:assert/strict";
import { closest, didYouMean, editDistance } from "./suggest.ts";

Deno.test("editDistance() counts single-character edits", () => {
  strictEqual(editDistance("square", "sqare"), 1);
  strictEqual(editDistance("", "abc"), 3);
  strictEqual(editDistance("same", "same"), 0);
});

Deno.test("closest() suggests only likely typos", () => {
  strictEqual(closest("sqare", ["square", "cube"]), "square");
  strictEqual(closest("xyz", ["square", "cube"]), undefined);
  strictEqual(didYouMean("serv", ["serve", "run"]), ': did you mean "serve"?');
  strictEqual(didYouMean("zzzz", ["serve"]), "");
});
