import { deepEqual } from "node:assert/strict";
import { CallTally } from "./_call_tally.ts";

function recorder() {
  const seen: unknown[] = [];
  const tally = new CallTally<{ fn: string }>({
    calls: (l, status, count) => seen.push(["calls", l.fn, status, count]),
    durations: (l, seconds) => {
      for (const s of seconds) seen.push(["duration", l.fn, s]);
    },
    bytes: (total) => seen.push(["bytes", total]),
  });
  return { seen, tally };
}

Deno.test("CallTally hands one count per function and status, each duration, the bytes summed", async () => {
  const { seen, tally } = recorder();
  const a = { fn: "a" }, b = { fn: "b" };
  tally.add(a, "success", 2, 10);
  tally.add(a, "success", 0, 10); // no duration measured: none observed
  tally.add(b, "failure", 4000, 5);
  tally.add(a, "timeout", 1000, 0);
  deepEqual(seen, [], "nothing before the task ends");
  await Promise.resolve();
  deepEqual(seen, [
    ["calls", "a", "success", 2],
    ["calls", "a", "timeout", 1],
    ["duration", "a", 0.002],
    ["duration", "a", 1],
    ["calls", "b", "failure", 1],
    ["duration", "b", 4],
    ["bytes", 25],
  ]);
});

Deno.test("CallTally.flush hands what is counted at once, and nothing twice", async () => {
  const { seen, tally } = recorder();
  tally.add({ fn: "a" }, "success", 1, 1);
  tally.flush();
  deepEqual(seen.length, 3);
  await Promise.resolve();
  deepEqual(seen.length, 3, "the scheduled flush finds nothing left");
});
