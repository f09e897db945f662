import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { FakeClock } from "../proto/fake_clock.ts";
import { Deadlines } from "./_deadlines.ts";

Deno.test("Deadlines fires an attempt's expiry exactly when its timeout has passed", async () => {
  const clock = new FakeClock(0);
  const deadlines = new Deadlines(clock);
  const fired: string[] = [];
  deadlines.set("a", 1_000, () => fired.push(`a@${clock.now()}`));
  await clock.tick(999);
  deepStrictEqual(fired, []);
  await clock.tick(1);
  deepStrictEqual(fired, ["a@1000"]);
  strictEqual(deadlines.size, 0);
  strictEqual(clock.pending, 0);
});

Deno.test("Deadlines never fires an attempt that was cleared", async () => {
  const clock = new FakeClock(0);
  const deadlines = new Deadlines(clock);
  const fired: string[] = [];
  deadlines.set("a", 100, () => fired.push("a"));
  deadlines.clear("a");
  await clock.tick(1_000);
  deepStrictEqual(fired, []);
});

Deno.test("Deadlines fires attempts of different timeouts in deadline order with one timer", async () => {
  const clock = new FakeClock(0);
  const deadlines = new Deadlines(clock);
  const fired: string[] = [];
  const at = (id: string) => () => fired.push(`${id}@${clock.now()}`);
  deadlines.set("slow", 5_000, at("slow"));
  deadlines.set("fast", 200, at("fast"));
  deadlines.set("mid", 1_000, at("mid"));
  strictEqual(clock.pending, 1);
  await clock.tick(10_000);
  deepStrictEqual(fired, ["fast@200", "mid@1000", "slow@5000"]);
});

Deno.test("Deadlines re-arms after the earliest attempt was cleared", async () => {
  const clock = new FakeClock(0);
  const deadlines = new Deadlines(clock);
  const fired: string[] = [];
  deadlines.set("first", 100, () => fired.push("first"));
  deadlines.set("second", 300, () => fired.push(`second@${clock.now()}`));
  deadlines.clear("first");
  await clock.tick(299);
  deepStrictEqual(fired, []);
  await clock.tick(1);
  deepStrictEqual(fired, ["second@300"]);
});

Deno.test("Deadlines.stop() cancels every pending expiry", async () => {
  const clock = new FakeClock(0);
  const deadlines = new Deadlines(clock);
  let fired = false;
  deadlines.set("a", 100, () => fired = true);
  deadlines.stop();
  deadlines.set("b", 100, () => fired = true);
  await clock.tick(1_000);
  strictEqual(fired, false);
  strictEqual(clock.pending, 0);
});

Deno.test("Deadlines.expireNow() ends a running attempt at once, and one not yet started when it starts", async () => {
  const clock = new FakeClock();
  const deadlines = new Deadlines(clock);
  const fired: string[] = [];
  deadlines.set("running", 60_000, () => fired.push("running"));
  deadlines.expireNow("running");
  deadlines.expireNow("waiting");
  deadlines.set("waiting", 60_000, () => fired.push("waiting"));
  deadlines.set("other", 60_000, () => fired.push("other"));
  await clock.tick(1_000);
  deadlines.stop();
  deepStrictEqual(fired, ["running", "waiting"]);
});
