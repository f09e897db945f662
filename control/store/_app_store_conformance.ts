/** The `AppStore` contract, as cases every store runs. */
import { deepStrictEqual, equal } from "node:assert/strict";
import { app, type Case, fnRecord } from "./_conformance_fixture.ts";

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
  },
};
