import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { SPARE_REFILL_MS, SpareSlot } from "./_spare_slot.ts";

Deno.test("a kept spare slot starts one, takes back only an unfit one, refills a while after a take, and drops it", async () => {
  const started: number[] = [];
  const killed: number[] = [];
  let n = 0;
  const slot: SpareSlot<number> = new SpareSlot<number>(
    () => slot.fill(Promise.resolve(started[started.push(++n) - 1])),
    (spare) => Promise.resolve(void killed.push(spare)),
  );
  strictEqual(slot.putBack(Promise.resolve(99)), false, "nothing keeps one: not taken back");
  const stop = slot.keep({ cacheDir: "/unused" });
  deepStrictEqual(started, [1]);
  const first = slot.take()!;
  strictEqual(slot.filled, false);
  strictEqual(slot.putBack(first), true, "unfit and kept: it waits for the next sandbox");
  strictEqual(slot.putBack(Promise.resolve(98)), false, "one at a time");
  strictEqual(await slot.take(), 1);
  slot.refillLater();
  slot.refillLater(); // one refill for two takes in a row
  await new Promise((r) => setTimeout(r, SPARE_REFILL_MS + 100));
  deepStrictEqual(started, [1, 2]);
  await stop();
  await stop(); // twice is once
  deepStrictEqual(killed, [2], "the waiting one goes when nothing keeps it");
  slot.refillLater();
  await new Promise((r) => setTimeout(r, SPARE_REFILL_MS + 100));
  deepStrictEqual(started, [1, 2], "no refill once dropped");
});

Deno.test("a spare taken is replaced once its keeper is not busy", async () => {
  let started = 0;
  let busy = true;
  const slot: SpareSlot<number> = new SpareSlot<number>(
    () => slot.fill(Promise.resolve(++started)),
    () => Promise.resolve(),
  );
  const stop = slot.keep({ cacheDir: "/unused", busy: () => busy });
  strictEqual(await slot.take(), 1);
  slot.refillLater();
  await new Promise((r) => setTimeout(r, 2 * SPARE_REFILL_MS + 100));
  strictEqual(started, 1, "not while busy");
  busy = false;
  await new Promise((r) => setTimeout(r, SPARE_REFILL_MS + 100));
  strictEqual(started, 2, "at the next look once idle");
  await stop();
});
