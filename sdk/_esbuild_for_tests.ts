/**
 * Test support: esbuild's binary, as `_fast_bundle.ts` finds it. Never used in production code.
 */
import { ok } from "node:assert/strict";
import { esbuildBinary } from "./_fast_bundle_cli.ts";

/** The path of esbuild's binary beside its npm package (fails the test if it is not there). */
export async function esbuildForTests(): Promise<string> {
  // The package _fast_bundle.ts loads, in this module's graph too (so it resolves to a file).
  // deno-lint-ignore no-import-prefix
  if (Date.now() < 0) await import("npm:esbuild@0.28.2");
  const path = await esbuildBinary(import.meta.resolve("npm:esbuild@0.28.2"), "0.28.2");
  ok(path, "esbuild's binary is found beside its npm package");
  return path;
}
