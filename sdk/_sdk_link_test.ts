import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { cliBundle } from "./_fast_bundle_cli.ts";
import { esbuildForTests } from "./_esbuild_for_tests.ts";
import { LINK_SPECIFIER, linkSdk, prepareSdk } from "./_sdk_link.ts";
import { absolutizeSourceMap } from "./_bundle.ts";
import { SDK_FILE, sdkModule, sdkPartOf, splitBundle } from "../proto/bundle_format.ts";

const SDK_DIR = new URL(".", import.meta.url).pathname;

const binary = esbuildForTests;

/** A small SDK, bundled as the real one is: ESM, a node: import, an inline map of absolute sources. */
const SDK_SOURCE = `import { serialize } from "node:v8";
import * as path from "node:path";
const secret = "sdk's own";
export class App {
  constructor(name: string) { this.name = name + ":" + secret; }
  name: string;
  bytes(v: unknown): number { return serialize(v).length + path.sep.length * 0; }
  fail(): never {
    throw new Error("from the sdk");
  }
}
export function helper(): string { return secret; }
`;

async function withFiles<T>(files: Record<string, string>, fn: (dir: string) => Promise<T>) {
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-link-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Bundles `sdk.ts` in `dir` as the SDK bundle (absolute sources), returns its text. */
async function sdkBundle(esbuild: string, dir: string): Promise<string> {
  const out = await new Deno.Command(esbuild, {
    args: [
      `${dir}/sdk.ts`,
      "--bundle",
      "--format=esm",
      "--platform=neutral",
      "--keep-names",
      "--sourcemap=inline",
      "--sources-content=false",
      "--external:node:*",
      `--outfile=${dir}/sdk.js`,
      "--log-level=silent",
    ],
  }).output();
  ok(out.success, "the SDK bundle builds");
  return absolutizeSourceMap(await Deno.readTextFile(`${dir}/sdk.js`), `file://${dir}/`).code;
}

const options = (dir: string) => ({
  externals: [],
  clientExternal: `${SDK_DIR}_session.ts`,
  sdkBundlePath: `${dir}/sdk.js`,
  sdkNames: [],
  sdkDir: SDK_DIR,
  sdkAlias: LINK_SPECIFIER,
});

/** Links `app.ts` in `dir` against the SDK; returns the linked bundle's text. */
async function link(dir: string): Promise<string> {
  const esbuild = await binary();
  const sdk = await sdkBundle(esbuild, dir);
  const app = await cliBundle(esbuild, `${dir}/app.ts`, options(dir));
  ok(app, "esbuild bundles the app alone");
  const prepared = prepareSdk(sdk);
  ok(prepared, "the SDK bundle can be linked");
  const linked = linkSdk(app.code, app.base, prepared);
  ok(linked, "the app links");
  return linked.code;
}

/**
 * Links `app.ts` in `dir` against the SDK; writes and imports the result, whole or split in
 * two as the deno runner splits it for a spare sandbox (the SDK's part imported first).
 */
async function linkAndImport(dir: string, split = false): Promise<Record<string, unknown>> {
  const code = await link(dir);
  if (!split) {
    await Deno.writeTextFile(`${dir}/linked.js`, code);
    return await import(`file://${dir}/linked.js`);
  }
  const parts = splitBundle(code);
  ok(parts, "a linked bundle splits");
  await Deno.mkdir(`${dir}/run`);
  await Deno.writeTextFile(`${dir}/run/${SDK_FILE}`, sdkModule(code, parts.sdkPart));
  await import(`file://${dir}/run/${SDK_FILE}`);
  await Deno.writeTextFile(`${dir}/run/bundle.js`, parts.app);
  return await import(`file://${dir}/run/bundle.js`);
}

Deno.test("linkSdk: the app's imports of the SDK read its exports; top-level names never meet", async () => {
  const app = `import { App, helper as h } from "@nano/modal";
import * as sdk from "@nano/modal";
import { serialize } from "node:v8";
// The SDK has top-level names of these too: each side keeps its own.
const secret = "app's own";
export const path = "app";
export const made = new App("x");
export const results = [made.name, h(), sdk.helper(), secret, made.bytes(1) > 0, serialize(1).length > 0];
`;
  await withFiles({ "sdk.ts": SDK_SOURCE, "app.ts": app }, async (dir) => {
    const mod = await linkAndImport(dir);
    deepStrictEqual(mod.results, [
      "x:sdk's own",
      "sdk's own",
      "sdk's own",
      "app's own",
      true,
      true,
    ]);
    strictEqual(mod.path, "app");
  });
});

for (const split of [false, true]) {
  Deno.test(`linkSdk: stack frames map to the app's lines and to the SDK's, as with esbuild${split ? ", split in two" : ""}`, async () => {
    const app = `import { App } from "@nano/modal";

function mine(): never {
  throw new Error("from the app");
}
export function appStack(): string {
  try { mine(); } catch (e) { return (e as Error).stack ?? ""; }
  return "";
}
export function sdkStack(): string {
  try { new App("y").fail(); } catch (e) { return (e as Error).stack ?? ""; }
  return "";
}
`;
    await withFiles({ "sdk.ts": SDK_SOURCE, "app.ts": app }, async (dir) => {
      const mod = await linkAndImport(dir, split);
      match(
        (mod.appStack as () => string)(),
        new RegExp(`at mine \\(file://${dir}/app\\.ts:4:9\\)`),
      );
      match(
        (mod.sdkStack as () => string)(),
        new RegExp(`at App\\.fail \\(file://${dir}/sdk\\.ts:9:11\\)`),
      );
    });
  });
}

Deno.test("linkSdk: an app re-exporting the SDK's names exports them", async () => {
  await withFiles(
    { "sdk.ts": SDK_SOURCE, "app.ts": 'export { App } from "@nano/modal";\n' },
    async (dir) => {
      const mod = await linkAndImport(dir);
      strictEqual(new (mod.App as new (n: string) => { name: string })("r").name, "r:sdk's own");
    },
  );
});

Deno.test("linkSdk: gives up on what it cannot link (a default import, an SDK of another shape)", async () => {
  const esbuild = await binary();
  const app = 'import App from "@nano/modal";\nexport const a = App;\n';
  await withFiles({ "sdk.ts": SDK_SOURCE, "app.ts": app }, async (dir) => {
    const sdk = await sdkBundle(esbuild, dir);
    const out = await cliBundle(esbuild, `${dir}/app.ts`, options(dir));
    ok(out);
    strictEqual(linkSdk(out.code, out.base, prepareSdk(sdk)!), undefined, "a default import");
  });
  const plain = 'import { App } from "@nano/modal";\nnew App("z");\n';
  await withFiles({ "sdk.ts": SDK_SOURCE, "app.ts": plain }, async (dir) => {
    const sdk = await sdkBundle(esbuild, dir);
    const out = await cliBundle(esbuild, `${dir}/app.ts`, options(dir));
    ok(out);
    ok(linkSdk(out.code, out.base, prepareSdk(sdk)!), "links as it is");
    const other = sdk.replace('from "node:v8";', 'from "npm:other";');
    strictEqual(prepareSdk(other), undefined, "an import that is not node:'s");
    strictEqual(prepareSdk(sdk.replace(/\/\/# sourceMappingURL.*/, "")), undefined, "no map");
  });
});

Deno.test("splitBundle: the app's part imports the SDK's part and runs as the whole does; other bundles do not split", async () => {
  const app = `import { App, helper } from "@nano/modal";
export const results = [new App("s").name, helper()];
`;
  await withFiles({ "sdk.ts": SDK_SOURCE, "app.ts": app }, async (dir) => {
    const code = await link(dir);
    const parts = splitBundle(code)!;
    ok(parts, "it splits");
    strictEqual(parts.app.split("\n").length, code.split("\n").length - 0, "every line kept");
    ok(!parts.app.includes("sdk's own"), "the app's part holds none of the SDK's code");
    strictEqual(splitBundle(parts.app), undefined, "a part does not split again");
    strictEqual(sdkPartOf(sdkModule(code, parts.sdkPart)), parts.sdkPart, "kept and read back");
    const mod = await linkAndImport(dir, true);
    deepStrictEqual(mod.results, ["s:sdk's own", "sdk's own"]);
  });
  strictEqual(splitBundle("export const a = 1;\n"), undefined, "esbuild's own bundle");
  strictEqual(splitBundle(""), undefined);
});
