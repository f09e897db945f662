/** The `AppStore` contract, as cases every store runs. */
import { deepStrictEqual, equal } from "node:assert/strict";
import { app, type Case, fnRecord, RETENTION_MS } from "./_conformance_fixture.ts";

/** Cases of `store.apps`. */
export const APP_STORE_CASES: Record<string, Case> = {
  "putApp() stores an app and its functions for getApp(), listApps() and getFunction()": async (
    { store },
  ) => {
    const a = app("app-1", { f: "fn-a", g: "fn-b" });
    await store.apps.putApp(a, [fnRecord("fn-a", "app-1"), fnRecord("fn-b", "app-1")]);
    await store.apps.putApp(app("app-2", {}), []);
    deepStrictEqual(await store.apps.getApp("app-1"), a);
    equal(await store.apps.getApp("nope"), undefined);
    const names = (await store.apps.listApps()).map((x) => x.appId).sort();
    deepStrictEqual(names, ["app-1", "app-2"]);
    deepStrictEqual(await store.apps.getFunction("fn-b"), fnRecord("fn-b", "app-1"));
    equal(await store.apps.getFunction("nope"), undefined);
  },

  "putApp() replaces an app with the same id": async ({ store }) => {
    await store.apps.putApp(app("app-1", { f: "fn-a" }), [fnRecord("fn-a", "app-1")]);
    const changed = { ...app("app-1", { f: "fn-a" }), name: "renamed", stopped: true };
    await store.apps.putApp(changed, []);
    deepStrictEqual(await store.apps.getApp("app-1"), changed);
    equal((await store.apps.listApps()).length, 1);
  },

  "stopApp() marks only that app stopped and says whether it exists": async ({ store }) => {
    await store.apps.putApp(app("app-1", { f: "fn-a" }), [fnRecord("fn-a", "app-1")]);
    await store.apps.putApp(app("app-2", { g: "fn-b" }), [fnRecord("fn-b", "app-2")]);
    equal(await store.apps.stopApp("app-1"), true);
    equal(await store.apps.stopApp("unknown-app"), false);
    equal((await store.apps.getApp("app-1"))?.stopped, true);
    equal((await store.apps.getApp("app-2"))?.stopped, false);
    const stopped = (await store.apps.listApps()).filter((a) => a.stopped).map((a) => a.appId);
    deepStrictEqual(stopped, ["app-1"]);
    equal(await store.apps.getApp("unknown-app"), undefined);
    // `live` lists the others only.
    const live = await store.apps.listApps({ live: true });
    deepStrictEqual(live.map((a) => [a.appId, a.stopped]), [["app-2", false]]);
  },

  "forgetStopped() forgets ephemeral apps stopped a retention period ago, and nothing else": async (
    { store, clock },
  ) => {
    const run = (id: string, fn: string) => ({ ...app(id, { f: fn }), ephemeral: true });
    const put = (id: string, fn: string, ephemeral = true) =>
      store.apps.putApp(ephemeral ? run(id, fn) : app(id, { f: fn }), [fnRecord(fn, id)]);
    await put("old-run", "fn-old");
    await put("later-run", "fn-later");
    await put("live-run", "fn-live");
    await put("deployed", "fn-dep", false);
    await store.apps.stopApp("old-run");
    await store.apps.stopApp("deployed");
    clock.advance(RETENTION_MS / 2);
    await store.apps.stopApp("later-run");
    // Stopping again does not restart the countdown.
    await store.apps.stopApp("old-run");
    // Recorded as stopped when put: counts from then.
    await store.apps.putApp({ ...run("put-stopped", "fn-ps"), stopped: true }, [
      fnRecord("fn-ps", "put-stopped"),
    ]);
    clock.advance(RETENTION_MS / 2);
    equal(await store.apps.forgetStopped(), 0, "exactly one retention period is not past it");
    clock.advance(1);
    equal(await store.apps.forgetStopped(), 1);
    equal(await store.apps.getApp("old-run"), undefined);
    equal(await store.apps.getFunction("fn-old"), undefined);
    const left = (await store.apps.listApps()).map((a) => a.appId).sort();
    deepStrictEqual(left, ["deployed", "later-run", "live-run", "put-stopped"]);
    deepStrictEqual(await store.apps.getFunction("fn-dep"), fnRecord("fn-dep", "deployed"));
    equal(await store.apps.forgetStopped(), 0, "nothing more is due");
    clock.advance(RETENTION_MS / 2);
    equal(await store.apps.forgetStopped(), 2, "the later run and the one put stopped");
    const kept = (await store.apps.listApps()).map((a) => a.appId).sort();
    deepStrictEqual(kept, ["deployed", "live-run"]);
    equal((await store.apps.getApp("deployed"))?.stopped, true, "a stopped deployment stays");
    deepStrictEqual(await store.apps.getFunction("fn-live"), fnRecord("fn-live", "live-run"));
  },
};
