import { match, ok, strictEqual } from "node:assert/strict";
import { cliBundle } from "./_fast_bundle_cli.ts";
import { esbuildForTests } from "./_esbuild_for_tests.ts";
import { fastBundle } from "./_fast_bundle.ts";

const SDK_DIR = new URL(".", import.meta.url).pathname;

const binary = esbuildForTests;

async function withApp(source: string, fn: (path: string, dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-cli-bundle-" });
  try {
    await Deno.writeTextFile(
      `${dir}/sdk_bundle.js`,
      "export class App { constructor(n) { this.n = n; } }\n",
    );
    await Deno.writeTextFile(`${dir}/app.ts`, source);
    await fn(`${dir}/app.ts`, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const options = (dir: string) => ({
  externals: ["npm:sharp*"],
  clientExternal: `${SDK_DIR}_session.ts`,
  sdkBundlePath: `${dir}/sdk_bundle.js`,
  sdkNames: ["modal"],
  sdkDir: SDK_DIR,
});

Deno.test("cliBundle() bundles an app with the SDK's names taken from the SDK bundle", async () => {
  const esbuild = await binary();
  await withApp(
    'import { App } from "@nano/modal";\nimport { App as B } from "modal";\n' +
      'import sharp from "npm:sharp@0.33";\nimport { join } from "node:path";\n' +
      'export const app = new App(join("a", String(sharp)), B);\n',
    async (path, dir) => {
      const out = await cliBundle(esbuild, path, options(dir));
      ok(out);
      match(out.code, /sdk_bundle\.js/);
      match(out.code, /from "npm:sharp@0\.33"/);
      match(out.code, /sourceMappingURL=data:application\/json;base64,/);
      strictEqual(new URL("sdk_bundle.js", out.base).protocol, "file:");
    },
  );
});

Deno.test("cliBundle() gives up on packages it may not leave as imports and on SDK files by path", async () => {
  const esbuild = await binary();
  for (
    const source of [
      'import x from "npm:left-pad@1";\nconsole.log(x);\n',
      'import x from "lodash";\nconsole.log(x);\n',
      `import { App } from "${SDK_DIR}errors.ts";\nconsole.log(App);\n`,
      'import x from "./missing.ts";\nconsole.log(x);\n',
    ]
  ) {
    await withApp(source, async (path, dir) => {
      strictEqual(await cliBundle(esbuild, path, options(dir)), undefined, source);
    });
  }
});

Deno.test("fastBundle() still bundles an app that imports the SDK by path (esbuild's API does)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-by-path-" });
  try {
    await Deno.writeTextFile(
      `${dir}/sdk.js`,
      "export class App { constructor(n) { this.n = n; } }\n",
    );
    await Deno.writeTextFile(
      `${dir}/app.ts`,
      `import { App } from "${SDK_DIR}mod.ts";\nexport const app = new App("by-path");\n`,
    );
    const out = await fastBundle(`${dir}/app.ts`, {
      externals: [],
      clientExternal: `${SDK_DIR}_session.ts`,
      sdkBundlePath: `${dir}/sdk.js`,
    });
    ok(out);
    match(out.text, /by-path/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
