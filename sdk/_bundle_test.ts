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

Deno.test("bundleModule() asked again for a bundle under way shares it; other externals do not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm_bundle_share_" });
  try {
    // A fresh file each time: no cached bundle answers at once.
    const file = `${dir}/app.ts`;
    await Deno.writeTextFile(
      file,
      `import { App } from "${new URL("./mod.ts", import.meta.url).href}";\n` +
        `const app = new App("share-${crypto.randomUUID().slice(0, 8)}");\n` +
        `export const f = app.function(function f(x: number) { return x + 1; });\n`,
    );
    const url = `file://${file}`;
    const starts: string[] = [];
    const first = bundleModule(url, [], { onStarted: () => starts.push("first") });
    const again = bundleModule(url, [], { onStarted: () => starts.push("again") });
    const other = bundleModule(url, ["npm:left-out*"]);
    strictEqual(again, first, "the run's ask takes the bundle the CLI started");
    strictEqual(other === first, false, "other externals are another bundle");
    const [a, b] = await Promise.all([first, other]);
    strictEqual(a.hash.length, 64);
    strictEqual(b.hash.length, 64);
    strictEqual(starts.sort().join(","), "again,first", "each asker hears that it started");
    // Done: the next ask is a new one (answered from the cache by content).
    strictEqual(bundleModule(url) === first, false);
    strictEqual((await bundleModule(url)).hash, a.hash);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
