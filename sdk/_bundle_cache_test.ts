import { notStrictEqual, ok, strictEqual } from "node:assert/strict";
import { bundleModule } from "./_bundle.ts";
import { pruneCache } from "../proto/cache_prune.ts";
import { TEST_CACHE_DIR } from "../proto/cache_dir.ts";

/** A scratch app beside the SDK (so `@nano/modal` resolves) and a scratch cache dir. */
async function scratch(): Promise<{ dir: string; cache: string; done: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ dir: new URL(".", import.meta.url).pathname, prefix: ".t" });
  const cache = await Deno.makeTempDir({ prefix: "nano-modal-cache-" });
  const slot = globalThis as Record<symbol, string | undefined>;
  const before = slot[TEST_CACHE_DIR];
  slot[TEST_CACHE_DIR] = cache;
  await Deno.writeTextFile(`${dir}/dep.ts`, "export const n = 1;\n");
  await Deno.writeTextFile(`${dir}/types.ts`, "export type T = number;\n");
  await Deno.writeTextFile(
    `${dir}/app.ts`,
    'import { App } from "../mod.ts";\nimport { n } from "./dep.ts";\nimport type { T } from "./types.ts";\n' +
      'const app = new App("c");\nexport const f = app.function(function f(x: T) { return x + n; });\n',
  );
  return {
    dir,
    cache,
    async done() {
      slot[TEST_CACHE_DIR] = before;
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(cache, { recursive: true });
    },
  };
}

/** The inode of the stored bundle: a new one means the bundle was built (and stored) again. */
async function stored(cache: string, hash: string): Promise<number | null> {
  return (await Deno.stat(`${cache}/bundles/${hash}.js`)).ino;
}

Deno.test("bundleModule() reuses the cached bundle while no file it was built from changed", async () => {
  const s = await scratch();
  try {
    const entry = `file://${s.dir}/app.ts`;
    const first = await bundleModule(entry);
    const ino = await stored(s.cache, first.hash);
    const again = await bundleModule(entry);
    strictEqual(again.hash, first.hash);
    strictEqual(await stored(s.cache, again.hash), ino, "taken from the cache, not rebuilt");
  } finally {
    await s.done();
  }
});

Deno.test("a bundle taken from the cache counts as used: its files are kept from pruning", async () => {
  const s = await scratch();
  try {
    const entry = `file://${s.dir}/app.ts`;
    const { hash } = await bundleModule(entry);
    // The app's entry: the SDK's own bundle may have its entry here too.
    const index = [...Deno.readDirSync(`${s.cache}/bundle-index`)].map((e) => e.name).find((n) =>
      JSON.parse(Deno.readTextFileSync(`${s.cache}/bundle-index/${n}`)).hash === hash
    )!;
    const files = [`${s.cache}/bundles/${hash}.js`, `${s.cache}/bundle-index/${index}`];
    const weekAgo = (Date.now() - 8 * 86_400_000) / 1000;
    for (const f of files) await Deno.utime(f, weekAgo, weekAgo);
    await bundleModule(entry);
    for (const f of files) {
      const age = Date.now() - (await Deno.stat(f)).mtime!.getTime();
      ok(age < 60_000, `${f} was used ${age} ms ago`);
    }
    strictEqual((await pruneCache(s.cache))?.files, 0);
  } finally {
    await s.done();
  }
});

Deno.test("bundleModule() bundles again when a local import or a types-only module changes", async () => {
  const s = await scratch();
  try {
    const entry = `file://${s.dir}/app.ts`;
    const first = await bundleModule(entry);
    await Deno.writeTextFile(`${s.dir}/dep.ts`, "export const n = 2;\n");
    const changed = await bundleModule(entry);
    notStrictEqual(changed.hash, first.hash, "the new dep.ts is in the bundle");
    const ino = await stored(s.cache, changed.hash);
    await Deno.writeTextFile(`${s.dir}/types.ts`, "export type T = number; // edited\n");
    const retyped = await bundleModule(entry);
    strictEqual(retyped.hash, changed.hash, "types leave no code");
    notStrictEqual(await stored(s.cache, retyped.hash), ino, "but the cache was not trusted");
  } finally {
    await s.done();
  }
});

Deno.test("bundleModule() still bundles an app after the cache lost every bundle", async () => {
  const s = await scratch();
  try {
    await Deno.writeTextFile(
      `${s.dir}/fast.ts`,
      'import { App } from "@nano/modal";\nconst app = new App("f");\n' +
        "export const f = app.function(function f(x: number) { return x; });\n",
    );
    const entry = `file://${s.dir}/fast.ts`;
    await bundleModule(entry);
    // Another process pruned the cache (or a test before this one used another cache dir).
    for (const e of Deno.readDirSync(`${s.cache}/bundles`)) {
      Deno.removeSync(`${s.cache}/bundles/${e.name}`);
    }
    await Deno.writeTextFile(`${s.dir}/fast.ts`, 'export const marker = "changed-42";\n', {
      append: true,
    });
    const again = await bundleModule(entry);
    ok(new TextDecoder().decode(again.code).includes("changed-42"));
  } finally {
    await s.done();
  }
});
