import assert from "node:assert/strict";
import { HeldInputs } from "./_held_inputs.ts";
import { FakeClock } from "../proto/fake_clock.ts";

Deno.test("HeldInputs counts inputs per function and reports changes at most once a second", async () => {
  const clock = new FakeClock(0);
  let reports = 0;
  const held = new HeldInputs(clock, () => reports++);
  held.add([{ inputId: "a", functionId: "f" }, { inputId: "b", functionId: "f" }]);
  held.add([{ inputId: "c", functionId: "g" }]);
  assert.deepEqual(held.load(), { busy: 3, running: { f: 2, g: 1 } });
  await clock.tick(999);
  assert.equal(reports, 0);
  await clock.tick(1);
  assert.equal(reports, 1, "three changes, one report");
  held.add([{ inputId: "a", functionId: "f" }]); // again: still one input
  assert.deepEqual(held.load(), { busy: 3, running: { f: 2, g: 1 } });
  held.remove(["a", "c", "unknown"]);
  assert.deepEqual(held.load(), { busy: 1, running: { f: 1 } });
  await clock.tick(1_000);
  assert.equal(reports, 2);
  held.remove(["b"]);
  held.close();
  await clock.tick(5_000);
  assert.equal(reports, 2, "no report after close");
  assert.deepEqual(held.load(), { busy: 0, running: {} });
});

Deno.test("HeldInputs.take removes inputs and says which function each was held for", () => {
  const held = new HeldInputs(new FakeClock(0), () => {});
  held.add([{ inputId: "a", functionId: "f" }, { inputId: "b", functionId: "g" }]);
  assert.deepEqual(held.take(["b", "unknown", "a", "a"]), ["g", undefined, "f", undefined]);
  assert.deepEqual(held.load(), { busy: 0, running: {} });
  held.close();
});
