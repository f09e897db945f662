import { equal } from "node:assert/strict";
import { MAX_PER_SLOT, NO_WINDOW_MS, QUEUE_BYTES, queueWindow, RunTime } from "./_window.ts";

Deno.test("queueWindow: none until measured, deep for microseconds, none for slow functions", () => {
  equal(queueWindow(1, { meanMs: undefined, timeoutMs: 300_000 }), 0, "unmeasured: no window");
  equal(
    queueWindow(1, { meanMs: 0.01, timeoutMs: 300_000 }),
    500,
    "about QUEUE_BUDGET_MS of work queued",
  );
  equal(queueWindow(1, { meanMs: 0.05, timeoutMs: 300_000 }), 100);
  equal(queueWindow(1, { meanMs: 0.099, timeoutMs: 300_000 }), 50);
  equal(
    queueWindow(1, { meanMs: 0.001, timeoutMs: 300_000 }),
    MAX_PER_SLOT,
    "capped for a function that takes nothing",
  );
  equal(queueWindow(1, { meanMs: 0, timeoutMs: 300_000 }), MAX_PER_SLOT);
  equal(queueWindow(4, { meanMs: 0.01, timeoutMs: 300_000 }), 2000, "scales with concurrency");
  equal(queueWindow(1, { meanMs: 0.5, timeoutMs: 300_000 }), 4);
  equal(queueWindow(1, { meanMs: 3, timeoutMs: 300_000 }), 1);
  equal(
    queueWindow(1, { meanMs: 20, timeoutMs: 300_000 }),
    1,
    "tens of ms: the next input waits in the sandbox",
  );
  equal(queueWindow(2, { meanMs: 20, timeoutMs: 300_000 }), 2);
  equal(
    queueWindow(1, { meanMs: NO_WINDOW_MS, timeoutMs: 300_000 }),
    0,
    "a slow input never strands others",
  );
  equal(
    queueWindow(1, { meanMs: 0.5, timeoutMs: 10 }),
    0,
    "queueing may not eat a tenth of a short timeout",
  );
  equal(
    queueWindow(1, { meanMs: 0.01, timeoutMs: 40 }),
    0,
    "500 queued x 0.01 ms is over a tenth of 40 ms",
  );
  equal(queueWindow(1, { meanMs: 0.01, timeoutMs: 60 }), 500);
});

Deno.test("queueWindow: queued arguments stay within QUEUE_BYTES per slot", () => {
  const w = (meanBytes: number) => queueWindow(1, { meanMs: 0.01, timeoutMs: 300_000, meanBytes });
  equal(w(20), 500, "small arguments: the time budget decides");
  equal(w(1024 * 1024), QUEUE_BYTES / (1024 * 1024), "megabyte arguments: a few");
  equal(w(64 * 1024 * 1024), 1, "never below one per slot");
  equal(queueWindow(1, { meanMs: 20, timeoutMs: 300_000, meanBytes: 64 * 1024 * 1024 }), 1);
  equal(queueWindow(2, { meanMs: 0.01, timeoutMs: 300_000, meanBytes: 1024 * 1024 }), 16);
});

Deno.test("RunTime follows recent argument sizes", () => {
  const t = new RunTime();
  equal(t.meanBytes, 0);
  t.addSize(100);
  equal(t.meanBytes, 100);
  for (let i = 0; i < 60; i++) t.addSize(1_000_000);
  equal(t.meanBytes > 999_000, true, "large inputs narrow the window soon");
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

Deno.test("RunTime: the first run time (a warm-up) is replaced by the second, not averaged in", () => {
  const t = new RunTime();
  t.add(0.3);
  equal(t.mean, 0.3, "until another input finishes, the first is all there is");
  t.add(0.005);
  equal(t.mean, 0.005);
  t.add(0.015);
  equal(Math.abs(t.mean! - 0.007) < 1e-9, true, "then a moving average");
  equal(t.count, 3);
});

Deno.test("RunTime.fastest is the shortest of the last 8 run times", () => {
  const t = new RunTime();
  equal(t.fastest, undefined);
  for (const ms of [2, 1.5, 0.01, 1.2]) t.add(ms); // a new sandbox's first runs, one fast
  equal(t.fastest, 0.01);
  for (let i = 0; i < 8; i++) t.add(5); // the function became slow: the old fast run ages out
  equal(t.fastest, 5);
  t.add(Number.NaN);
  equal(t.fastest, 5, "bad samples are not kept");
});
