import { equal } from "node:assert/strict";
import { FakeClock } from "../proto/fake_clock.ts";
import { createMemoryStore } from "./store/memory_store.ts";
import { BLOB_SWEEP_EVERY_MS, startSweeper } from "./_sweeper.ts";
import { BLOB_GRACE_MS } from "./_blob_sweep.ts";

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

Deno.test("the sweeper deletes unreferenced blobs soon after it starts, then hourly, beside its lease sweeps", async () => {
  const clock = new FakeClock();
  const store = createMemoryStore({ clock });
  const gone = (hash: string) => until(async () => !(await store.blobs.has(hash)), `${hash} gone`);
  await store.blobs.put("orphan", new Uint8Array([1]));
  clock.advance(BLOB_GRACE_MS);
  const everyMs = 600_000;
  const sweeper = startSweeper(store, { clock, intervalMs: everyMs, maxInfraAttempts: 2 });
  try {
    await store.blobs.put("later", new Uint8Array([2]));
    await clock.tick(everyMs - 1);
    equal(await store.blobs.get("orphan") !== undefined, true, "not before the first sweep");
    await clock.tick(1); // the first sweep, past FIRST_BLOB_SWEEP_MS
    await gone("orphan");
    await clock.tick(BLOB_GRACE_MS - BLOB_SWEEP_EVERY_MS);
    equal(await store.blobs.get("later") !== undefined, true, "used within the grace period");
    await clock.tick(BLOB_SWEEP_EVERY_MS);
    await gone("later");
  } finally {
    sweeper.stop();
    await store.close();
  }
});

/** Waits (real time, up to 2 s) until `ready` resolves true. */
async function until(ready: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}
