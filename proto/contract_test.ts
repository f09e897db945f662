// `deno doc --lint` cannot check the generated messages (see mod.ts), so this
// test holds the contract itself to the same rule: every message, field, enum
// value, service and rpc in nano_modal.proto says what it is, in a comment on
// the line above (or at the end of its line). protoc-gen-es copies those
// comments into the JSDoc of proto/gen/.
import { deepStrictEqual } from "node:assert/strict";
import { undocumented } from "./_proto_comments.ts";
import { ResultStatus as Generated } from "./messages.ts";
import { ResultStatus } from "./result_status.ts";

Deno.test("undocumented() finds a field without a comment and accepts commented ones", () => {
  deepStrictEqual(
    undocumented(
      "// A thing.\nmessage A {\n  // The name.\n  string name = 1;\n  uint32 n = 2;\n  bool b = 3; // Set when so.\n}",
    ),
    ["line 5: uint32 n = 2;"],
  );
});

Deno.test("every message, field, enum value, service and rpc of nano_modal.proto is documented", async () => {
  const source = await Deno.readTextFile(new URL("./nano_modal.proto", import.meta.url));
  deepStrictEqual(undocumented(source), []);
});

Deno.test("proto/result_status.ts holds the generated ResultStatus, value for value", () => {
  const generated = Object.fromEntries(
    Object.entries(Generated).filter(([name]) => Number.isNaN(Number(name))),
  );
  deepStrictEqual(generated, { ...ResultStatus });
});
