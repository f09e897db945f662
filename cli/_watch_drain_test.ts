import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { FakeClock } from "../proto/fake_clock.ts";
import { drainThenStop } from "./_watch_drain.ts";

/** Runs a drain whose probe answers from `answers` (the last one repeats); returns when it stopped. */
async function drain(
  answers: (number | null)[],
  options: { graceMs?: number; abortAtMs?: number },
) {
  const clock = new FakeClock(0);
  let stoppedAt: number | undefined;
  const quit = new AbortController();
  let i = 0;
  const end = drainThenStop(
    () => Promise.resolve(void (stoppedAt ??= clock.now())),
    () => Promise.resolve(answers[Math.min(i++, answers.length - 1)]),
    { clock, graceMs: options.graceMs, signal: quit.signal },
  );
  for (let t = 0; t < 60_000 && stoppedAt === undefined; t += 100) {
    if (t === options.abortAtMs) quit.abort();
    await clock.tick(100);
  }
  return { stoppedAt, end: await end };
}

Deno.test("drainThenStop stops a previous version once its requests finished", async () => {
  // Three polls see requests in flight, the fourth none.
  deepStrictEqual(await drain([2, 1, 1, 0], {}), { stoppedAt: 2_100, end: "finished" });
});

Deno.test("drainThenStop waits for the name to settle even with nothing in flight", async () => {
  deepStrictEqual(await drain([0], {}), { stoppedAt: 1_500, end: "finished" });
});

Deno.test("drainThenStop stops a version whose requests never end after the grace period", async () => {
  const { stoppedAt, end } = await drain([1], { graceMs: 5_000 });
  strictEqual(end, "grace");
  strictEqual(stoppedAt! >= 5_000 && stoppedAt! <= 5_200, true, `stopped at ${stoppedAt}`);
});

Deno.test("drainThenStop waits 10 s when the control plane cannot tell", async () => {
  const { stoppedAt, end } = await drain([null], {});
  strictEqual(end, "unknown");
  strictEqual(stoppedAt! >= 10_000 && stoppedAt! <= 10_200, true, `stopped at ${stoppedAt}`);
});

Deno.test("drainThenStop stops at once when the watcher stops", async () => {
  deepStrictEqual(await drain([3], { abortAtMs: 3_000 }), { stoppedAt: 3_000, end: "quit" });
});
