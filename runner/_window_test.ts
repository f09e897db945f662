import { equal } from "node:assert/strict";
import { NO_WINDOW_MS, queueWindow, RunTime } from "./_window.ts";

Deno.test("queueWindow: none until measured, deep for microseconds, none for slow functions", () => {
  equal(queueWindow(1, undefined, 300_000), 0, "unmeasured: no window");
  equal(queueWindow(1, 0.01, 300_000), 64);
  equal(queueWindow(4, 0.01, 300_000), 256, "scales with concurrency");
  equal(queueWindow(1, 0.5, 300_000), 4);
  equal(queueWindow(1, 3, 300_000), 1);
  equal(queueWindow(1, 20, 300_000), 1, "tens of ms: the next input waits in the sandbox");
  equal(queueWindow(2, 20, 300_000), 2);
  equal(queueWindow(1, NO_WINDOW_MS, 300_000), 0, "a slow input never strands others");
  equal(queueWindow(1, 0.5, 10), 0, "queueing may not eat a tenth of a short timeout");
});

Deno.test("RunTime follows recent run times", () => {
  const t = new RunTime();
  equal(t.mean, undefined);
  t.add(10);
  equal(t.mean, 10);
  for (let i = 0; i < 40; i++) t.add(0.01);
  equal(t.mean! < 0.1, true, "a function that became fast gets a deep window again");
  t.add(Number.NaN);
  equal(t.mean! < 0.1, true, "bad samples are ignored");
});
