import { match, strictEqual } from "node:assert/strict";
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
