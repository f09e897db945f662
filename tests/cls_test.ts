// End-to-end: app.cls with @enter/@exit, run with the embedded control plane (deno runner).
import { strictEqual } from "node:assert/strict";
import { check, runCli } from "./_cli.ts";

Deno.test("classes: enter once per container, state across inputs, one pool per constructor arguments, a failing enter", async () => {
  const r = await runCli(["run", "--runner", "deno", "tests/fixtures/cls_app.ts"]);
  check(r.code === 0, "exit code 0", r);
  const line = (label: string) => r.stdout.split("\n").find((l) => l.startsWith(`${label}: `));
  strictEqual(line("state"), "state: [1,1,1,2,true]");
  strictEqual(line("params"), 'params: ["large",true,"small"]');
  // Two inputs that overlap in time on maxContainers 2 and concurrency 1: two containers, two enters.
  strictEqual(line("parallel"), "parallel: 2");
  strictEqual(line("broken"), 'broken: ["RemoteError","RangeError","cannot load the weights"]');
  strictEqual(line("broken-stack"), "broken-stack: true");
});
