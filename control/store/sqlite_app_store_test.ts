import assert from "node:assert/strict";
import { openDatabase } from "./_sqlite.ts";
import { APP_MIGRATIONS, SqliteAppStore } from "./sqlite_app_store.ts";
import type { AppRecord } from "./app_store.ts";

const app: AppRecord = {
  appId: "ap-cachedapp000001",
  name: "kept",
  ephemeral: false,
  stopped: false,
  createdMs: 1,
  bundleHash: "h",
  entryUrl: "file:///app.ts",
  functionIds: { f: "fu-cachedfn0000001" },
};

async function twoConnections(): Promise<[SqliteAppStore, SqliteAppStore, () => Promise<void>]> {
  const dir = await Deno.makeTempDir();
  const dbA = openDatabase(`${dir}/state.db`, APP_MIGRATIONS);
  const dbB = openDatabase(`${dir}/state.db`, APP_MIGRATIONS);
  const cleanup = async () => {
    dbA.close();
    dbB.close();
    await Deno.remove(dir, { recursive: true });
  };
  return [new SqliteAppStore(dbA, "host/1"), new SqliteAppStore(dbB, "host/2"), cleanup];
}

Deno.test("sqlite apps: a kept app record shows another connection's stop and rewrite", async () => {
  const [a, b, cleanup] = await twoConnections();
  try {
    await a.putApp(app, []);
    assert.equal((await a.getApp(app.appId))?.stopped, false);
    assert.equal((await a.getApp(app.appId))?.stopped, false);
    assert.equal(await b.stopApp(app.appId), true);
    assert.equal((await a.getApp(app.appId))?.stopped, true);
    await b.putApp({ ...app, name: "renamed" }, []);
    assert.equal((await a.getApp(app.appId))?.name, "renamed");
    assert.equal((await a.getApp(app.appId))?.stopped, false);
  } finally {
    await cleanup();
  }
});

Deno.test("sqlite apps: a kept app record shows the store's own stop and rewrite", async () => {
  const [a, _b, cleanup] = await twoConnections();
  try {
    await a.putApp(app, []);
    assert.equal((await a.getApp(app.appId))?.stopped, false);
    await a.stopApp(app.appId);
    assert.equal((await a.getApp(app.appId))?.stopped, true);
    await a.putApp({ ...app, name: "again" }, []);
    const read = await a.getApp(app.appId);
    assert.equal(read?.name, "again");
    assert.equal(read?.stopped, false);
    // A caller changing what it got changes nothing kept.
    read!.stopped = true;
    assert.equal((await a.getApp(app.appId))?.stopped, false);
  } finally {
    await cleanup();
  }
});
