import { deepStrictEqual, equal } from "node:assert/strict";
import { FakeClock } from "../proto/fake_clock.ts";
import { createMemoryStore } from "./store/mod.ts";
import { watchAppHeartbeats } from "./_app_heartbeats.ts";

function app(appId: string) {
  return {
    appId,
    name: appId,
    ephemeral: true,
    stopped: false,
    createdMs: 0,
    bundleHash: "",
    entryUrl: "",
    functionIds: {},
  };
}

Deno.test("watchAppHeartbeats() stops an app whose client went silent, and only that one", async () => {
  const clock = new FakeClock();
  const all = createMemoryStore({ clock });
  const backend = all.apps;
  const store = all.deployments;
  const stopped: string[] = [];
  await backend.putApp(app("ap-quiet"), []);
  await backend.putApp(app("ap-alive"), []);
  await store.touchApp("ap-quiet", clock.now());
  await store.touchApp("ap-alive", clock.now());
  const watch = watchAppHeartbeats(all, {
    clock,
    timeoutMs: 15_000,
    onStopped: (id) => stopped.push(id),
  });
  try {
    for (let s = 0; s < 14; s++) {
      await clock.tick(1_000);
      await store.touchApp("ap-alive", clock.now());
    }
    deepStrictEqual(stopped, [], "nothing before the timeout");
    for (let s = 0; s < 5; s++) {
      await clock.tick(1_000);
      await store.touchApp("ap-alive", clock.now());
    }
    deepStrictEqual(stopped, ["ap-quiet"]);
    equal((await backend.getApp("ap-quiet"))?.stopped, true);
    equal((await backend.getApp("ap-alive"))?.stopped, false);
    deepStrictEqual(
      await store.staleApps(clock.now() - 15_000),
      [],
      "the stopped app is forgotten",
    );
  } finally {
    watch.stop();
    await all.close();
  }
});
