import { deepStrictEqual, equal } from "node:assert/strict";
import { CACHE_MAX_AGE_MS, CACHE_PRUNE_EVERY_MS, pruneCache, touchCached } from "./cache_prune.ts";

const DAY = 86_400_000;

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (sub: string) => {
    for await (const e of Deno.readDir(`${dir}${sub}`)) {
      if (e.isDirectory) await walk(`${sub}/${e.name}`);
      else out.push(`${sub}/${e.name}`.slice(1));
    }
  };
  await walk("");
  return out.sort();
}

Deno.test("pruneCache deletes bundles, index entries and entrypoint builds unused for a week, and dead writers' temp files", async () => {
  const dir = await Deno.makeTempDir();
  const now = Date.now();
  try {
    await Deno.mkdir(`${dir}/bundles`);
    await Deno.mkdir(`${dir}/bundle-index`);
    await Deno.mkdir(`${dir}/images`);
    const put = async (path: string, ageMs: number) => {
      await Deno.writeTextFile(`${dir}/${path}`, "x".repeat(10));
      await touchCached(`${dir}/${path}`, now - ageMs);
    };
    const old = CACHE_MAX_AGE_MS + 1_000;
    await put("bundles/old.js", old);
    await put("bundles/used.js", old);
    await put("bundles/recent.js", DAY);
    await put("bundles/recent.js.1234.tmp", 2 * 3_600_000);
    await put("bundles/writing.js.5678.tmp", 60_000);
    await put("bundle-index/old.json", old);
    await put("bundle-index/recent.json", DAY);
    await put("entrypoint-00aa.js", old);
    await put("entrypoint-00bb.js", 0);
    await put("deno-host.json.9abc.tmp", 2 * 3_600_000);
    await put("deno-host.json", old);
    await put("spare-sdk.js", old);
    await put("images/old-context.tar", old);
    // A use a moment ago keeps a file another week.
    equal(await touchCached(`${dir}/bundles/used.js`, now), true);
    equal(await touchCached(`${dir}/bundles/gone.js`, now), false);

    const report = await pruneCache(dir, { nowMs: now });
    deepStrictEqual(report, { files: 5, bytes: 50 });
    deepStrictEqual(await files(dir), [
      ".pruned",
      "bundle-index/recent.json",
      "bundles/recent.js",
      "bundles/used.js",
      "bundles/writing.js.5678.tmp",
      "deno-host.json",
      "entrypoint-00bb.js",
      "images/old-context.tar",
      "spare-sdk.js",
    ]);

    await put("bundles/old-again.js", old);
    equal(await pruneCache(dir, { nowMs: now + 1_000 }), null, "pruned once a day at most");
    equal(await pruneCache(dir, { nowMs: now + CACHE_PRUNE_EVERY_MS - 1 }), null);
    // A day on: the new old bundle, and the temp file now long abandoned.
    deepStrictEqual(await pruneCache(dir, { nowMs: now + CACHE_PRUNE_EVERY_MS }), {
      files: 2,
      bytes: 20,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pruneCache of a cache dir that does not exist yet deletes nothing and fails nothing", async () => {
  const dir = `${await Deno.makeTempDir()}/not-yet`;
  try {
    deepStrictEqual(await pruneCache(dir), { files: 0, bytes: 0 });
  } finally {
    await Deno.remove(dir.slice(0, dir.lastIndexOf("/")), { recursive: true });
  }
});
