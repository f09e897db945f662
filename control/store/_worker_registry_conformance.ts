/** The `WorkerRegistry` contract, as cases every store runs. */
import { deepStrictEqual } from "node:assert/strict";
import type { Case } from "./_conformance_fixture.ts";

/** Cases of `store.workers`. */
export const WORKER_REGISTRY_CASES: Record<string, Case> = {
  "heartbeat(), list() and remove() track live workers": async ({ store }) => {
    const w1 = { workerId: "w1", capacity: 4, runner: "deno", hostname: "a", lastSeenMs: 1 };
    const w2 = { ...w1, workerId: "w2", runner: "docker" };
    await store.workers.heartbeat(w1);
    await store.workers.heartbeat(w2);
    await store.workers.heartbeat({ ...w1, lastSeenMs: 2 });
    const sorted = (await store.workers.list()).sort((a, b) =>
      a.workerId.localeCompare(b.workerId)
    );
    deepStrictEqual(sorted, [{ ...w1, lastSeenMs: 2 }, w2]);
    await store.workers.remove("w1");
    deepStrictEqual(await store.workers.list(), [w2]);
  },
};
