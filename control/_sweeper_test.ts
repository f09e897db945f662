import { equal } from "node:assert/strict";
import { FakeClock } from "../proto/fake_clock.ts";
import { createMemoryStore } from "./store/memory_store.ts";
import { startSweeper } from "./_sweeper.ts";

Deno.test("a sweep forgets the apps of runs stopped a retention period ago", async () => {
  const clock = new FakeClock();
  const store = createMemoryStore({ clock, retentionMs: 1_000 });
  const sweeper = startSweeper(store, { clock, intervalMs: 100, maxInfraAttempts: 2 });
  try {
    const base = { name: "demo", stopped: false, createdMs: 0, bundleHash: "h", entryUrl: "" };
    await store.apps.putApp({ ...base, appId: "run", ephemeral: true, functionIds: {} }, []);
    await store.apps.putApp({ ...base, appId: "dep", ephemeral: false, functionIds: {} }, []);
    await store.apps.stopApp("run");
    await store.apps.stopApp("dep");
    await clock.tick(1_000);
    equal((await store.apps.listApps()).length, 2, "kept for the retention period");
    await clock.tick(100);
    equal((await store.apps.listApps()).map((a) => a.appId).join(), "dep");
  } finally {
    sweeper.stop();
    await store.close();
  }
});
