import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { FakeClock } from "../proto/fake_clock.ts";
import { every } from "./_every.ts";

Deno.test("every() calls its function once per period until stopped", async () => {
  const clock = new FakeClock(0);
  const calls: number[] = [];
  const stop = every(clock, { periodMs: 1_000, fn: () => calls.push(clock.now()) });
  await clock.tick(3_500);
  deepStrictEqual(calls, [1_000, 2_000, 3_000]);
  stop();
  await clock.tick(5_000);
  strictEqual(calls.length, 3);
  strictEqual(clock.pending, 0);
});

Deno.test("every() starts the next period only once slow work has finished", async () => {
  const clock = new FakeClock(0);
  const starts: number[] = [];
  const stop = every(clock, {
    periodMs: 100,
    fn: async () => {
      starts.push(clock.now());
      await clock.sleep(250);
    },
  });
  await clock.tick(1_000);
  stop();
  deepStrictEqual(starts, [100, 450, 800]);
});

Deno.test("every() keeps going after its function throws", async () => {
  const clock = new FakeClock(0);
  let calls = 0;
  const stop = every(clock, {
    periodMs: 10,
    fn: () => {
      calls++;
      throw new Error("boom");
    },
  });
  await clock.tick(30);
  stop();
  strictEqual(calls, 3);
});
