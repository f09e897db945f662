import { match, strictEqual } from "node:assert/strict";
import { fastBundle } from "./_fast_bundle.ts";
import { bundleModule } from "./_bundle.ts";
import type { Runtime } from "../proto/runtime.ts";

const SDK_DIR = new URL(".", import.meta.url).pathname;

Deno.test("fastBundle() leaves an app with npm: imports to deno bundle", async () => {
  const deps = new URL("../examples/deps.ts", import.meta.url).pathname;
  const out = await fastBundle(deps, {
    externals: [],
    clientExternal: `${SDK_DIR}_session.ts`,
    sdkBundlePath: `${SDK_DIR}mod.ts`,
  });
  strictEqual(out, undefined);
});

Deno.test("a bundle runs TC39 decorators and maps a thrown error to the user's own line", async () => {
  const dir = await Deno.makeTempDir({ dir: SDK_DIR, prefix: ".fast" });
  try {
    await Deno.writeTextFile(
      `${dir}/app.ts`,
      [
        'import { App } from "../mod.ts";',
        "function mark(_m: unknown, ctx: ClassMethodDecoratorContext) {",
        "  (ctx.metadata as Record<string, unknown>).marked = String(ctx.name);",
        "}",
        "class K {",
        "  @mark hello() {}",
        "}",
        'const app = new App("fast-test");',
        "export const boom = app.function(function boom() {",
        "  const meta = (K as unknown as Record<symbol, Record<string, unknown>>)[Symbol.metadata];",
        "  throw new Error(`marked ${meta?.marked}`); // line 11",
        "});",
      ].join("\n"),
    );
    const bundle = await bundleModule(`file://${dir}/app.ts`);
    await Deno.writeFile(`${dir}/bundle.js`, bundle.code);
    await import(`file://${dir}/bundle.js`);
    const rt = (globalThis as unknown as Record<symbol, Runtime>)[Symbol.for("nano-modal.runtime")];
    const app = rt.apps.findLast((a) => a.name === "fast-test")!;
    let caught: Error | undefined;
    try {
      app.functions.get("boom")!();
    } catch (err) {
      caught = err as Error;
    }
    strictEqual(caught?.message, "marked hello");
    match(caught?.stack ?? "", new RegExp(`${dir}/app\\.ts:11:`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
