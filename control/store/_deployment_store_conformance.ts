/** The `DeploymentStore` contract, as cases every store runs. */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import type { Case } from "./_conformance_fixture.ts";

/** Cases of `store.deployments`. */
export const DEPLOYMENT_STORE_CASES: Record<string, Case> = {
  "each deploy records the next version and makes it current": async ({ store }) => {
    const s = store.deployments;
    equal(await s.getDeployment("demo"), undefined);
    deepStrictEqual(await s.recordVersion("demo", { appId: "ap-1", nowMs: 1000 }), {
      version: 1,
      appId: "ap-1",
      createdMs: 1000,
      rollbackOf: 0,
    });
    await s.recordVersion("demo", { appId: "ap-2", nowMs: 2000 });
    await s.recordVersion("other", { appId: "ap-9", nowMs: 2500 });
    deepStrictEqual(await s.getDeployment("demo"), {
      name: "demo",
      version: 2,
      appId: "ap-2",
      stopped: false,
      createdMs: 1000,
      updatedMs: 2000,
    });
    deepStrictEqual((await s.versions("demo")).map((v) => [v.version, v.appId]), [
      [1, "ap-1"],
      [2, "ap-2"],
    ]);
    deepStrictEqual((await s.listDeployments()).map((d) => d.name), ["demo", "other"]);
  },

  "concurrent deploys of one name get distinct versions": async ({ store }) => {
    const s = store.deployments;
    const got = await Promise.all(
      Array.from({ length: 20 }, (_, i) => s.recordVersion("demo", { appId: `ap-${i}`, nowMs: i })),
    );
    deepStrictEqual(
      got.map((v) => v.version).sort((a, b) => a - b),
      [...Array(20)].map((_, i) => i + 1),
    );
    equal((await s.versions("demo")).length, 20);
  },

  "a stopped name stays stopped until the next version": async ({ store }) => {
    const s = store.deployments;
    equal(await s.stopDeployment("nope"), false);
    equal(await s.getDeployment("nope"), undefined);
    await s.recordVersion("demo", { appId: "ap-1", nowMs: 1 });
    ok(await s.stopDeployment("demo"));
    equal((await s.getDeployment("demo"))?.stopped, true);
    const v = await s.recordVersion("demo", { appId: "ap-2", nowMs: 2, rollbackOf: 1 });
    equal(v.rollbackOf, 1);
    equal((await s.getDeployment("demo"))?.stopped, false);
  },

  "apps whose heartbeats stopped are reported stale until forgotten": async ({ store }) => {
    const s = store.deployments;
    await s.touchApp("ap-a", 100);
    await s.touchApp("ap-b", 100);
    await s.touchApp("ap-b", 300);
    deepStrictEqual(await s.staleApps(200), ["ap-a"]);
    await s.forgetApp("ap-a");
    deepStrictEqual(await s.staleApps(200), []);
    deepStrictEqual(await s.staleApps(400), ["ap-b"]);
  },

  "call depths are remembered for their time to live": async ({ store, clock }) => {
    const s = store.deployments;
    equal(await s.callDepth("fc-unknown"), 0);
    await s.setCallDepth("fc-a", 3, 60_000);
    equal(await s.callDepth("fc-a"), 3);
    await s.setCallDepth("fc-b", 2, 1_000);
    // Redis expires keys on its own time, the memory store on the injected clock.
    await clock.tick(5_000);
    if (store.kind === "redis") await new Promise((r) => setTimeout(r, 1_100));
    equal(await s.callDepth("fc-b"), 0);
    equal(await s.callDepth("fc-a"), 3);
  },

  "recent logs keep the latest lines, oldest first": async ({ store }) => {
    const s = store.deployments;
    const line = (n: number) => new Uint8Array([n]);
    await s.appendLogs("demo", [line(1), line(2)], 3);
    await s.appendLogs("demo", [line(3), line(4)], 3);
    deepStrictEqual(await s.recentLogs("demo", 10), [line(2), line(3), line(4)]);
    deepStrictEqual(await s.recentLogs("demo", 1), [line(4)]);
    deepStrictEqual(await s.recentLogs("other", 5), []);
  },
};
