import { equal } from "node:assert/strict";
import { detectCapacity, Resources } from "./_resources.ts";

Deno.test("Resources reserves what fits, forces when asked, and wakes waiters on release", () => {
  const r = new Resources({ cpu: 2, memoryMiB: 1024 });
  equal(r.reserve(1, 512), true);
  equal(r.reserve(1, 512), true);
  equal(r.fits(0.1, 1), false, "no core left");
  equal(r.reserve(1, 1), false);
  equal(r.reserve(1, 1, true), true, "forced");
  let woken = 0;
  const stop = r.onFreed(() => woken++);
  r.release(1, 1);
  equal(woken, 1);
  stop();
  r.release(1, 512);
  equal(woken, 1, "no longer told after unsubscribing");
  equal(r.fits(1, 512), true);
  const ten = new Resources({ cpu: 1, memoryMiB: 1024 });
  for (let i = 0; i < 10; i++) equal(ten.reserve(0.1, 10), true, "ten tenths fit in a core");
});

Deno.test("detectCapacity() reports this machine's cores and memory", () => {
  const c = detectCapacity();
  equal(c.cpu, navigator.hardwareConcurrency);
  equal(c.memoryMiB > 100, true);
});
