import { strictEqual } from "node:assert/strict";
import type { Clock, TimerHandle } from "../proto/clock.ts";
import { FakeClock } from "../proto/fake_clock.ts";
import { MIN_BACKLOG_MS, ScaleUpTimer } from "./_scale_up.ts";
import { SCALE_UP_AFTER_MS } from "./_pool_spec.ts";

/** A clock whose one timer fires only when the test says, however late. */
class LateClock implements Clock {
  nowMs = 0;
  pending?: () => void;
  now = () => this.nowMs;
  setTimeout(fn: () => void): TimerHandle {
    this.pending = fn;
    return 1;
  }
  clearTimeout(): void {
    this.pending = undefined;
  }
  sleep(): Promise<void> {
    return Promise.resolve();
  }
}

Deno.test("ScaleUpTimer counts a backlog from the last restart(), not from before it (a cold start)", async () => {
  const clock = new FakeClock(0);
  const timer = new ScaleUpTimer(clock);
  await clock.tick(500); // inputs waited 500 ms for the first sandbox to start
  timer.restart(); // it joined
  strictEqual(timer.due(0), false, "the wait for the cold start does not count");
  await clock.tick(SCALE_UP_AFTER_MS - 1);
  strictEqual(timer.due(0), false);
  await clock.tick(1);
  strictEqual(timer.due(0), true);
  strictEqual(timer.due(clock.now() - 10), false, "an input that waited 10 ms is not a backlog");
});

Deno.test("ScaleUpTimer.due() is false for a backlog the warm sandboxes clear in a moment, and counts afresh", async () => {
  const clock = new FakeClock(0);
  const timer = new ScaleUpTimer(clock);
  await clock.tick(SCALE_UP_AFTER_MS * 3);
  strictEqual(timer.due(0, MIN_BACKLOG_MS - 1), false, "microseconds of work waiting");
  strictEqual(timer.due(0), false, "the count starts again from now");
  await clock.tick(SCALE_UP_AFTER_MS);
  strictEqual(timer.due(0, MIN_BACKLOG_MS), true, "a real backlog, waiting long enough");
});

Deno.test("ScaleUpTimer: a check that fires late (a busy event loop) counts the backlog afresh", () => {
  const clock = new LateClock();
  const timer = new ScaleUpTimer(clock);
  const seen: boolean[] = [];
  timer.arm(0, () => seen.push(timer.due(0)));
  clock.nowMs = SCALE_UP_AFTER_MS; // on time
  clock.pending!();
  timer.arm(clock.nowMs, () => seen.push(timer.due(0)));
  clock.nowMs += SCALE_UP_AFTER_MS * 3; // 200 ms late
  clock.pending!();
  strictEqual(timer.armed, false);
  strictEqual(seen.join(), "true,false");
});
