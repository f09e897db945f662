import { equal } from "node:assert/strict";
import { Cancels } from "./_cancels.ts";

Deno.test("Cancels: a signal taken before the cancel aborts with it", () => {
  const c = new Cancels();
  const stopped = new AbortController();
  c.add("a");
  const s = c.signal("a", stopped.signal);
  equal(s.aborted, false);
  equal(c.cancel("a"), true);
  equal(s.aborted, true);
});

Deno.test("Cancels: a signal taken after the cancel is aborted already", () => {
  const c = new Cancels();
  c.add("a");
  c.cancel("a");
  equal(c.signal("a", new AbortController().signal).aborted, true);
});

Deno.test("Cancels: the worker stopping aborts the signal; an ended input cancels nothing", () => {
  const c = new Cancels();
  const stopped = new AbortController();
  c.add("a");
  const s = c.signal("a", stopped.signal);
  stopped.abort();
  equal(s.aborted, true);
  c.delete("a");
  equal(c.cancel("a"), false, "not running");
  equal(c.cancel("b"), false, "never ran");
});
