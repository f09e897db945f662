import assert from "node:assert/strict";
import { FakeClock } from "../../proto/fake_clock.ts";
import { systemClock } from "../../proto/clock.ts";
import { WakeSet } from "./_wake_set.ts";

Deno.test("waits on one clock end at their own timeouts and share one timer", async () => {
  const clock = new FakeClock();
  const a = new WakeSet(clock);
  const b = new WakeSet(clock);
  const ended: string[] = [];
  const waits = [
    a.wait(300).then(() => ended.push("a300")),
    b.wait(100).then(() => ended.push("b100")),
    a.wait(200).then(() => ended.push("a200")),
  ];
  assert.equal(clock.pending, 1);
  await clock.tick(99);
  assert.deepEqual(ended, []);
  await clock.tick(1);
  assert.deepEqual(ended, ["b100"]);
  await clock.tick(100);
  assert.deepEqual(ended, ["b100", "a200"]);
  await clock.tick(100);
  await Promise.all(waits);
  assert.deepEqual(ended, ["b100", "a200", "a300"]);
  assert.equal(clock.pending, 0);
});

Deno.test("a wake ends only its set's waits; the others still time out", async () => {
  const clock = new FakeClock();
  const a = new WakeSet(clock);
  const b = new WakeSet(clock);
  let bEnded = false;
  const bWait = b.wait(500).then(() => bEnded = true);
  const aWait = a.wait(100);
  a.wakeAll();
  await aWait;
  assert.equal(a.size, 0);
  await clock.tick(499);
  assert.equal(bEnded, false);
  await clock.tick(1);
  await bWait;
  assert.equal(bEnded, true);
  assert.equal(clock.pending, 0);
});

Deno.test("an abort ends a wait, and the last wait to end clears the timer", async () => {
  const clock = new FakeClock();
  const set = new WakeSet(clock);
  const ctl = new AbortController();
  const w = set.wait(1_000, ctl.signal);
  assert.equal(clock.pending, 1);
  ctl.abort();
  await w;
  assert.equal(set.size, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("a wait made later with an earlier deadline re-arms the shared timer", async () => {
  const clock = new FakeClock();
  const set = new WakeSet(clock);
  let longEnded = false;
  const long = set.wait(10_000).then(() => longEnded = true);
  await clock.tick(10);
  const short = set.wait(50);
  await clock.tick(50);
  await short;
  assert.equal(longEnded, false);
  await clock.tick(9_940);
  await long;
  assert.equal(longEnded, true);
});

Deno.test("on the system clock a woken wait leaves no timer holding the process, and timeouts still fire", async () => {
  const set = new WakeSet(systemClock);
  // Woken long before its timeout: the shared timer stays, unref'd (the test's op sanitizer
  // would fail on a ref'd timer left behind).
  const woken = set.wait(60_000);
  set.wakeAll();
  await woken;
  // A shorter wait re-arms for its own deadline; a longer one refs the kept timer again.
  const started = performance.now();
  await set.wait(30);
  const waited = performance.now() - started;
  assert.ok(waited >= 25 && waited < 5_000, `waited ${waited} ms`);
  const again = set.wait(60_000);
  assert.equal(set.size, 1);
  set.wakeAll();
  await again;
});
