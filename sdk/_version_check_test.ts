import { strictEqual } from "node:assert/strict";
import { versionMismatch } from "./_version_check.ts";

Deno.test("versionMismatch() is silent when only the patch differs", () => {
  strictEqual(versionMismatch("0.1.0", "0.1.7"), undefined);
});

Deno.test("versionMismatch() names both versions when the minor differs", () => {
  const line = versionMismatch("0.1.0", "0.2.0")!;
  strictEqual(line.includes("0.1.0") && line.includes("0.2.0"), true);
  strictEqual(line.includes("\n"), false);
});

Deno.test("versionMismatch() warns when the major differs", () => {
  strictEqual(typeof versionMismatch("2.0.0", "1.9.0"), "string");
});

Deno.test("versionMismatch() ignores a server without a release version", () => {
  strictEqual(versionMismatch("0.1.0", "dev"), undefined);
});
