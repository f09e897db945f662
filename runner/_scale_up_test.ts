import { ok, strictEqual } from "node:assert/strict";
import type { Clock, TimerHandle } from "../proto/clock.ts";
import { FakeClock } from "../proto/fake_clock.ts";
import { MIN_BACKLOG_MS, ScaleUp, type ScaleUpState } from "./_scale_up.ts";
import { SCALE_UP_AFTER_MS } from "./_pool_spec.ts";

/** A pool of one started sandbox (concurrency 1) with inputs waiting since `sinceMs`. */
function fakePool(state: Partial<ScaleUpState>) {
  const pool = {
    starts: 0,
    s: {
      waiting: 31,
      oldestSinceMs: 0,
      starting: 0,
      started: 1,
      concurrency: 1,
      slots: 17,
      runs: { count: 0, mean: undefined },
      closed: false,
      ...state,
    } as ScaleUpState,
    state: () => pool.s,
    room: () => true,
    fits: () => true,
    start: () => {
      pool.starts++;
      pool.s = { ...pool.s, starting: pool.s.starting + 1 };
    },
  };
  return pool;
}

/** A clock whose timers fire only when the test says, however late. */
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

Deno.test("ScaleUp counts a backlog from when a sandbox last joined, not from its cold start", async () => {
  const clock = new FakeClock(0);
  const pool = fakePool({ oldestSinceMs: 0 });
  const scaleUp = new ScaleUp(clock, pool);
  await clock.tick(500); // the inputs waited 500 ms for the first sandbox
  scaleUp.restart(); // it joined
  scaleUp.check();
  await clock.tick(SCALE_UP_AFTER_MS - 1);
  strictEqual(pool.starts, 0, "the wait for the cold start does not count");
  await clock.tick(1);
  strictEqual(pool.starts, 2, "a backlog that lasted SCALE_UP_AFTER_MS since: as many as it needs");
  scaleUp.cancel();
});

Deno.test("ScaleUp starts nothing for a backlog the warm sandbox clears in a moment (a microsecond function)", async () => {
  const clock = new FakeClock(0);
  const pool = fakePool({ runs: { count: 1000, mean: 0.01 } }); // 31 × 0.01 ms of work
  const scaleUp = new ScaleUp(clock, pool);
  scaleUp.check();
  for (let i = 1; i <= 5; i++) {
    pool.s = { ...pool.s, runs: { count: 1000 + i * 100, mean: 0.01 } }; // inputs finish
    await clock.tick(SCALE_UP_AFTER_MS);
  }
  strictEqual(pool.starts, 0);
  pool.s = { ...pool.s, runs: { count: 2000, mean: MIN_BACKLOG_MS } }; // now slow
  await clock.tick(SCALE_UP_AFTER_MS);
  strictEqual(pool.starts, 2);
  scaleUp.cancel();
});

Deno.test("ScaleUp weighs a backlog at the fastest recent run time: a busy host's slow wall-clock mean starts nothing", async () => {
  const clock = new FakeClock(0);
  // 1,000 inputs waiting on a microsecond function: its mean (0.05 ms) counts waits for a core,
  // its fastest recent run (0.005 ms) does not; 5 ms of work in all, under MIN_BACKLOG_MS.
  const runs = (count: number, fastest: number) => ({ count, mean: 0.05, fastest });
  const pool = fakePool({ waiting: 1000, runs: runs(1000, 0.005) });
  const scaleUp = new ScaleUp(clock, pool);
  scaleUp.check();
  for (let i = 1; i <= 5; i++) {
    pool.s = { ...pool.s, runs: runs(1000 + i * 100, 0.005) }; // inputs finish
    await clock.tick(SCALE_UP_AFTER_MS);
  }
  strictEqual(pool.starts, 0);
  // Really slower now (its fastest run too): the backlog is real work, more sandboxes start.
  pool.s = { ...pool.s, runs: runs(2000, MIN_BACKLOG_MS / 100) };
  await clock.tick(SCALE_UP_AFTER_MS);
  ok(pool.starts > 0, `${pool.starts}`);
  scaleUp.cancel();
});

Deno.test("ScaleUp: a check that fires late (a busy event loop) counts the backlog afresh", () => {
  const clock = new LateClock();
  const pool = fakePool({ oldestSinceMs: 0 });
  const scaleUp = new ScaleUp(clock, pool);
  scaleUp.check();
  clock.nowMs = SCALE_UP_AFTER_MS * 4; // 300 ms late
  pool.s = { ...pool.s, runs: { count: 5, mean: undefined } }; // inputs finished meanwhile
  clock.pending!();
  strictEqual(pool.starts, 0, "a late check scales nothing");
  clock.nowMs += SCALE_UP_AFTER_MS; // the backlog lasted, and this check is on time
  clock.pending!();
  strictEqual(pool.starts, 2);
});

Deno.test("ScaleUp scales a fast function whose sandbox finishes nothing (an input waits on a nested call)", async () => {
  const clock = new FakeClock(0);
  const pool = fakePool({ waiting: 1, runs: { count: 3, mean: 0.5 } }); // 0.5 ms of work waits
  const scaleUp = new ScaleUp(clock, pool);
  scaleUp.check();
  await clock.tick(SCALE_UP_AFTER_MS);
  strictEqual(pool.starts, 1, "no input finished while it waited: the estimate says nothing");
  scaleUp.cancel();
});

Deno.test("ScaleUp does not start at once on one input's run time (its warm-up), only on the backlog's", async () => {
  const clock = new FakeClock(0);
  // The first input of a microsecond function took 0.3 ms (its warm-up): 443 waiting × 0.3 ms
  // would be a long backlog.
  const pool = fakePool({ waiting: 443, slots: 500, runs: { count: 1, mean: 0.3 } });
  const scaleUp = new ScaleUp(clock, pool);
  scaleUp.check();
  strictEqual(pool.starts, 0, "one run time (maybe all warm-up) proves no 133 ms backlog");
  // The next inputs show the real figure, and the sandbox keeps up.
  pool.s = { ...pool.s, waiting: 40, runs: { count: 400, mean: 0.005 } };
  await clock.tick(SCALE_UP_AFTER_MS);
  strictEqual(pool.starts, 0, "the warm sandbox cleared it: no second sandbox");
  // A slow function's backlog proves long on its second run time: it scales at once.
  pool.s = { ...pool.s, waiting: 20, slots: 17, runs: { count: 2, mean: 50 } };
  scaleUp.check();
  await clock.tick(0);
  strictEqual(pool.starts, 2, "as many as the backlog needs (20 inputs, 17 slots: 2) start now");
  scaleUp.cancel();
});

Deno.test("ScaleUp starts at once only if the backlog is long even at the fastest recent run time", async () => {
  const clock = new FakeClock(0);
  // A new sandbox's first runs on a busy host: a 1.5 ms mean, but one ran in 0.01 ms.
  const pool = fakePool({ waiting: 385, slots: 500, runs: { count: 6, mean: 1.5, fastest: 0.01 } });
  const scaleUp = new ScaleUp(clock, pool);
  scaleUp.check();
  await clock.tick(0);
  strictEqual(pool.starts, 0, "385 × 0.01 ms is no long backlog");
  pool.s = { ...pool.s, runs: { count: 6, mean: 1.5, fastest: 1.2 } }; // a 1.2 ms function
  scaleUp.check();
  await clock.tick(0);
  strictEqual(pool.starts, 1, "385 × 1.2 ms is: one more sandbox now");
  scaleUp.cancel();
});
