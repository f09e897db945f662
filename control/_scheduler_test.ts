import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { FakeClock } from "../proto/fake_clock.ts";
import { createMemoryStore } from "./store/mod.ts";
import { latestTick, type ScheduledFunction, Scheduler } from "./_scheduler.ts";

function fixture(schedule: ScheduledFunction["schedule"], planes = 1) {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 0));
  const fn: ScheduledFunction = { functionId: "fu-1", appId: "ap-1", name: "tick", schedule };
  // The store's lease, as every control plane on one store shares it.
  const ticks = createMemoryStore({ clock }).ticks;
  const runs: { plane: number; tickMs: number }[] = [];
  const schedulers = Array.from({ length: planes }, (_, plane) =>
    new Scheduler({
      clock,
      list: () => Promise.resolve([fn]),
      claim: (id, tick) => ticks.claim(id, tick),
      run: (_fn, tickMs) => {
        runs.push({ plane, tickMs });
        return Promise.resolve();
      },
      pollMs: 1_000,
    }));
  return { clock, runs, schedulers };
}

Deno.test("an everyMs schedule runs once per tick, starting with the first tick after it was seen", async () => {
  const { clock, runs, schedulers: [s] } = fixture({ cron: "", timezone: "", everyMs: 5_000 });
  s.start();
  await clock.tick(20_000);
  s.stop();
  strictEqual(runs.length, 4);
  deepStrictEqual(runs.map((r) => r.tickMs - runs[0].tickMs), [0, 5_000, 10_000, 15_000]);
});

Deno.test("two control planes sharing a lease run each tick once, not twice", async () => {
  const { clock, runs, schedulers } = fixture({ cron: "", timezone: "", everyMs: 2_000 }, 2);
  for (const s of schedulers) s.start();
  await clock.tick(10_000);
  for (const s of schedulers) s.stop();
  strictEqual(runs.length, 5);
  strictEqual(new Set(runs.map((r) => r.tickMs)).size, 5);
});

Deno.test("after downtime only the latest tick runs: no backfill", async () => {
  const { clock, runs, schedulers: [s] } = fixture({ cron: "", timezone: "", everyMs: 1_000 });
  await s.poll(); // first sighting
  clock.advance(60_000); // the control plane was down for a minute
  await s.poll();
  strictEqual(runs.length, 1);
});

Deno.test("latestTick() follows a cron expression in its time zone", () => {
  const hourly = { cron: "0 * * * *", timezone: "UTC", everyMs: 0 };
  const start = Date.UTC(2026, 0, 1, 10, 30);
  strictEqual(latestTick(hourly, start, Date.UTC(2026, 0, 1, 10, 59)), undefined);
  strictEqual(latestTick(hourly, start, Date.UTC(2026, 0, 1, 13, 5)), Date.UTC(2026, 0, 1, 13, 0));
  const paris3am = { cron: "0 3 * * *", timezone: "Europe/Paris", everyMs: 0 };
  // 03:00 in Paris in January is 02:00 UTC.
  strictEqual(
    latestTick(paris3am, Date.UTC(2026, 0, 1, 0, 0), Date.UTC(2026, 0, 1, 12, 0)),
    Date.UTC(2026, 0, 1, 2, 0),
  );
});

Deno.test("a store outage is reported once, not at every poll, and again after a recovery", async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  let down = true;
  const errors: string[] = [];
  const s = new Scheduler({
    clock,
    list: () => down ? Promise.reject(new Error("Redis is down")) : Promise.resolve([]),
    claim: () => Promise.resolve(true),
    run: () => Promise.resolve(),
    onError: (m) => errors.push(m),
  });
  for (let i = 0; i < 5; i++) await s.poll();
  strictEqual(errors.length, 1);
  down = false;
  await s.poll();
  down = true;
  await s.poll();
  await s.poll();
  deepStrictEqual(errors, [
    "nano-modal server: reading schedules failed: Redis is down",
    "nano-modal server: reading schedules failed: Redis is down",
  ]);
});
