import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { FakeClock } from "./fake_clock.ts";

Deno.test("FakeClock fires due timers in order and leaves later ones", async () => {
  const clock = new FakeClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push("b"), 20);
  clock.setTimeout(() => fired.push("a"), 10);
  clock.setTimeout(() => fired.push("c"), 100);
  await clock.tick(50);
  assertEquals(fired, ["a", "b"]);
  assertEquals(clock.now(), 50);
  assertEquals(clock.pending, 1);
});

Deno.test("FakeClock.sleep chains resolve as time moves", async () => {
  const clock = new FakeClock(0);
  const seen: number[] = [];
  (async () => {
    for (let i = 0; i < 3; i++) {
      await clock.sleep(100);
      seen.push(clock.now());
    }
  })();
  await clock.tick(300);
  assertEquals(seen, [100, 200, 300]);
});

Deno.test("FakeClock.sleep rejects when its signal aborts", async () => {
  const clock = new FakeClock(0);
  const ac = new AbortController();
  const p = clock.sleep(1_000, ac.signal);
  ac.abort(new Error("stop"));
  let msg = "";
  await p.catch((e) => msg = e.message);
  assertEquals(msg, "stop");
  assertEquals(clock.pending, 0);
});
