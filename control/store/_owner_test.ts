import { equal, ok } from "node:assert/strict";
import { isGoneProcess, processOwner } from "./_owner.ts";

Deno.test("processOwner() names this host, pid and start; a live owner is not gone", () => {
  const owner = processOwner();
  ok(owner.startsWith(`${Deno.hostname()}/${Deno.pid}/`), owner);
  equal(isGoneProcess(owner), false);
});

Deno.test("isGoneProcess() is true for an exited pid or a reused one, never for another host", async () => {
  const child = new Deno.Command("true").spawn();
  const pid = child.pid;
  await child.status;
  equal(isGoneProcess(`${Deno.hostname()}/${pid}/1`), true, "exited");
  const owner = processOwner();
  const reused = owner.replace(/\/[^/]*$/, "/0");
  equal(isGoneProcess(reused), true, "same pid, another start: a later process");
  equal(isGoneProcess(`elsewhere.example/${pid}/1`), false, "another host is never judged");
  equal(isGoneProcess("garbage"), false);
});
