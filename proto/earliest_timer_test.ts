import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { EarliestTimer } from "./earliest_timer.ts";
import { FakeClock } from "./fake_clock.ts";

Deno.test("EarliestTimer keeps one timer for the earliest deadline and re-arms for the next", () => {
  const clock = new FakeClock(0);
  const deadlines = new Set<number>();
  const fired: number[] = [];
  const timer = new EarliestTimer(clock, (nowMs) => {
    for (const at of [...deadlines].sort((a, b) => a - b)) {
      if (at <= nowMs) (deadlines.delete(at), fired.push(nowMs));
    }
    return Math.min(Infinity, ...deadlines);
  });
  for (const at of [300, 100, 200]) {
    deadlines.add(at);
    timer.armBy(at);
  }
  strictEqual(clock.pending, 1, "one timer for three deadlines");
  clock.advance(99);
  deepStrictEqual(fired, []);
  clock.advance(1);
  deepStrictEqual(fired, [100], "the earliest on time");
  strictEqual(clock.pending, 1, "armed again for the next");
  clock.advance(200);
  deepStrictEqual(fired, [100, 200, 300]);
  strictEqual(clock.pending, 0, "nothing left: no timer");
  deadlines.add(400);
  timer.armBy(400);
  timer.disarm();
  clock.advance(1_000);
  deepStrictEqual(fired, [100, 200, 300], "a disarmed timer fires no more");
  strictEqual(timer.handle, undefined);
});
