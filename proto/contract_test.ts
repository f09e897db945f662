// `deno doc --lint` cannot check the generated messages (see mod.ts), so this
// test holds the contract itself to the same rule: every message, field, enum
// value, service and rpc in nano_modal.proto says what it is, in a comment on
// the line above (or at the end of its line). protoc-gen-es copies those
// comments into the JSDoc of proto/gen/.
import { deepStrictEqual } from "node:assert/strict";

const DECLARATION =
  /^\s*(message|enum|service|rpc|oneof|repeated|map<|[a-z][a-z0-9_.]*\s+[a-z_][a-z0-9_]*\s*=|[A-Z][A-Z0-9_]*\s*=)/;

/** The declarations of a .proto source that have no comment, as "line N: text". */
export function undocumented(source: string): string[] {
  const lines = source.split("\n");
  const missing: string[] = [];
  lines.forEach((line, i) => {
    if (!DECLARATION.test(line) || line.includes("//")) return;
    if (/^\s*oneof /.test(line)) return; // its fields carry the documentation
    if (/UNSPECIFIED\s*=\s*0/.test(line)) return; // proto3's required zero value
    if (lines[i - 1]?.trim().startsWith("//")) return;
    missing.push(`line ${i + 1}: ${line.trim()}`);
  });
  return missing;
}

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
