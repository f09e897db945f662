import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import { create, toBinary } from "../proto/deps.ts";
import { OutputSchema, ResultStatus } from "../proto/messages.ts";
import { createMemoryStore } from "./store/mod.ts";
import { FakeClock } from "../proto/fake_clock.ts";
import { createEventLog } from "../proto/event_log.ts";
import { ControlObserver } from "./_observer.ts";

function observer() {
  const lines: string[] = [];
  const clock = new FakeClock(1_700_000_000_000);
  const o = new ControlObserver(createMemoryStore({ clock }), {
    clock,
    log: createEventLog({ write: (l) => lines.push(l), now: () => clock.now() }),
  });
  return { o, lines };
}

Deno.test("ControlObserver counts autoscaler decisions by direction and logs each", async () => {
  const { o, lines } = observer();
  o.scaling({ from: 1, to: 3, reason: "12 inputs queued" });
  o.scaling({ from: 3, to: 2, reason: "idle" });
  o.scaling({ from: 2, to: 2, reason: "nothing to do" });
  const text = (await o.metrics.render()).body;
  match(text, /nano_modal_autoscaler_decisions_total\{direction="up"\} 1/);
  match(text, /nano_modal_autoscaler_decisions_total\{direction="down"\} 1/);
  strictEqual(lines.length, 2);
  match(lines[0], /autoscaler: scale up 1 → 3 workers \(12 inputs queued\)$/);
});

Deno.test("ControlObserver turns workers' running totals into counters, once each, across reconnects", async () => {
  const { o } = observer();
  o.workerHeartbeat("w1", { cold_starts: 2, containers_idle: 2 });
  o.workerHeartbeat("w1", { cold_starts: 3, containers_idle: 1, containers_busy: 2 });
  o.workerLeft("w1", 0);
  o.workerHeartbeat("w1", { cold_starts: 3 }); // the same worker again: nothing new
  o.workerHeartbeat("w2", { cold_starts: 1, sandbox_deaths: 1, containers_busy: 1 });
  const text = (await o.metrics.render()).body;
  match(text, /nano_modal_cold_starts_total 4/);
  match(text, /nano_modal_sandbox_deaths_total 1/);
  match(text, /nano_modal_containers\{state="busy"\} 1/);
  match(text, /nano_modal_containers\{state="idle"\} 0/);
});

Deno.test("ControlObserver keeps the last 100 finished calls newest first, and a function's window figures", async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const store = createMemoryStore({ clock });
  const o = new ControlObserver(store, { clock });
  await store.apps.putApp({
    appId: "ap-obs",
    name: "obs",
    ephemeral: true,
    stopped: false,
    createdMs: clock.now(),
    bundleHash: "0".repeat(64),
    entryUrl: "file:///obs.ts",
    functionIds: { f: "fu-obs" },
  }, [{ functionId: "fu-obs", appId: "ap-obs", name: "f", def: new Uint8Array() }]);
  const output = (durationMs: number, status = ResultStatus.SUCCESS) =>
    toBinary(OutputSchema, create(OutputSchema, { status, durationMs }));
  o.inputFinished("w1", "fu-obs", "fc-a:0", output(1)); // looks the labels up (a promise)
  await new Promise((r) => setTimeout(r, 10));
  for (let i = 1; i < 150; i++) {
    await clock.tick(100);
    o.inputFinished("w1", "fu-obs", `fc-a:${i}`, output(i, i % 10 ? 1 : 2));
  }
  const recent = o.recentCalls();
  strictEqual(recent.length, 100);
  deepStrictEqual(recent.slice(0, 2).map((c) => [c.inputId, c.callId, c.function, c.durationMs]), [
    ["fc-a:149", "fc-a", "f", 149],
    ["fc-a:148", "fc-a", "f", 148],
  ]);
  strictEqual(recent[99].inputId, "fc-a:50");
  strictEqual(recent.filter((c) => c.status === "failure").length, 10);
  // A copy: the ring's next entries do not change what a reader already has.
  o.inputFinished("w1", "fu-obs", "fc-b:0", output(7));
  strictEqual(recent[0].inputId, "fc-a:149");
  strictEqual(o.recentCalls()[0].callId, "fc-b");
  const f = o.figures("fu-obs");
  strictEqual(f.success + f.failure, 151);
  strictEqual(f.failure, 14);
  // 151 finished within 15 s: all in the last minute.
  strictEqual(f.callsPerMinute, 151);
  strictEqual(f.p50Ms, 74); // 1..149 and a 7: the 76th smallest
});
