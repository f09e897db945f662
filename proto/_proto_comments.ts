/**
 * Finds the declarations of a .proto source that say nothing about
 * themselves: what `contract_test.ts` holds nano_modal.proto to, since
 * `deno doc --lint` cannot check the generated code (see `mod.ts`).
 * @module
 */

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
