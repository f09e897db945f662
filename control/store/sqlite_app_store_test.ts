import assert from "node:assert/strict";
import { openDatabase } from "./_sqlite.ts";
import { APP_MIGRATIONS, SqliteAppStore } from "./sqlite_app_store.ts";
import type { AppRecord } from "./app_store.ts";
import { FakeClock } from "../../proto/fake_clock.ts";

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

Deno.test("sqlite apps: ephemeral apps stopped before a time go, with their functions; nothing else does", async () => {
  const dir = await Deno.makeTempDir();
  const db = openDatabase(`${dir}/state.db`, APP_MIGRATIONS);
  const clock = new FakeClock(1_000);
  const a = new SqliteAppStore(db, "host/1", clock);
  try {
    const put = (id: string, over: Partial<AppRecord>) =>
      a.putApp({ ...app, appId: `ap-${id}`, functionIds: { f: `fu-${id}` }, ...over }, [
        { functionId: `fu-${id}`, appId: `ap-${id}`, name: "f", def: new Uint8Array([1]) },
      ]);
    // Created long ago, stopped at 1,000 ms; then one created and stopped later, one still
    // running, a deployed one stopped early.
    await put("stoppedearly001", { ephemeral: true, createdMs: 1 });
    await a.stopApp("ap-stoppedearly001");
    await put("olddeployed0001", { ephemeral: false, stopped: true, createdMs: 1 });
    await put("oldrunning00001", { ephemeral: true, createdMs: 1 });
    clock.advance(1_000);
    await put("stoppedlate0001", { ephemeral: true, stopped: true, createdMs: 1 });
    assert.equal(a.pruneStopped(1_500), 1);
    assert.deepEqual((await a.listApps()).map((x) => x.appId).sort(), [
      "ap-olddeployed0001",
      "ap-oldrunning00001",
      "ap-stoppedlate0001",
    ]);
    assert.equal(await a.getApp("ap-stoppedearly001"), undefined);
    assert.equal(await a.getFunction("fu-stoppedearly001"), undefined);
    assert.ok(await a.getFunction("fu-stoppedlate0001"));
    assert.equal(a.pruneStopped(1_500), 0);
    // Stopped when its process was found gone: from then on.
    assert.equal(a.stopEphemeral(() => false, true), 1);
    assert.equal(a.pruneStopped(2_000), 0, "stopped at 2,000 ms, not before");
    assert.equal(a.pruneStopped(2_001), 2);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});
