import { strictEqual } from "node:assert/strict";
import { bundleModule } from "./_bundle.ts";

Deno.test("bundleModule() keeps the SDK's client (Connect, the session) out of user bundles", async () => {
  const hello = new URL("../examples/hello.ts", import.meta.url).href;
  const { code } = await bundleModule(hello);
  const text = new TextDecoder().decode(code);
  // The modules the bundle was built from, as its inline source map lists them.
  const map = text.slice(text.lastIndexOf("base64,") + "base64,".length).trim();
  const modules: string[] = JSON.parse(atob(map)).sources;
  strictEqual(modules.some((m) => m.endsWith("sdk/app.ts")), true, "the SDK core is bundled");
  strictEqual(modules.some((m) => /_session|_map_stream|connectrpc/.test(m)), false);
  strictEqual(
    /import\("[^"]*sdk\/_session\.ts"\)/.test(text),
    true,
    "the client stays a lazy import",
  );
});
