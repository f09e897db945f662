// End-to-end: pipelined dispatch (inputs queued at a sandbox ahead of time) changes nothing a user sees.
import { ok, strictEqual } from "node:assert/strict";
import { check, ROOT, runCli, writeApp } from "./_cli.ts";

const SDK = JSON.stringify(`${ROOT}sdk/mod.ts`);

async function runApp(source: string) {
  const file = await writeApp(source);
  try {
    const r = await runCli(["run", "--runner", "deno", file]);
    check(r.code === 0, "exit 0", r);
    return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  } finally {
    await Deno.remove(file.slice(0, file.lastIndexOf("/")), { recursive: true });
  }
}

Deno.test("a fast concurrency-1 function: order, one at a time, per-container state, timeouts and a crash re-run", async () => {
  const r = await runApp(`import { App } from ${SDK};
const app = new App("pipelined");
const g = globalThis as { id?: string; n?: number; running?: number; most?: number;};
export const step = app.function({ maxContainers: 1, timeoutMs: 2_000 }, async function step(x: number) {
  g.id ??= crypto.randomUUID();
  g.running = (g.running ?? 0) + 1;
  g.most = Math.max(g.most ?? 0, g.running);
  await Promise.resolve();
  g.running--;
  if (x === 1500) await new Promise((r) => setTimeout(r, 5_000));
  if (x === 3000) Deno.exit(1);
  return { x, id: g.id, n: g.n = (g.n ?? 0) + 1, most: g.most };
});
app.localEntrypoint(async () => {
  const out = [];
  for await (const o of step.map(Array.from({ length: 4000 }, (_, i) => i), { returnExceptions: true })) {
    out.push(o instanceof Error ? { error: o.name, message: o.message } : o);
  }
  console.log(JSON.stringify(out));
});
`);
  strictEqual(r.length, 4000);
  strictEqual(r[1500].error, "FunctionTimeoutError", "a slow input times out as before");
  ok(
    /called Deno.exit\(1\)/.test(r[3000].message),
    `only the input that crashed fails: ${r[3000].message}`,
  );
  const fine = r.filter((o: { x?: number }) => o.x !== undefined);
  const failed = r.map((o: { error?: string }, i: number) => [i, o]).filter((
    [, o]: [number, { error?: string }],
  ) => o.error);
  strictEqual(
    fine.length,
    3998,
    `every other input succeeds: the crash's queued ones re-run: ${
      JSON.stringify(failed.slice(0, 6))
    }`,
  );
  ok(
    fine.every((o: { x: number }, i: number) => o.x === (i < 1500 ? i : i < 2999 ? i + 1 : i + 2)),
    "in input order",
  );
  ok(
    fine.every((o: { most: number }) => o.most === 1),
    "never more than one at a time in a sandbox",
  );
  const perSandbox = new Map<string, number[]>();
  for (const o of fine) perSandbox.set(o.id, [...(perSandbox.get(o.id) ?? []), o.n]);
  for (const ns of perSandbox.values()) {
    ok(new Set(ns).size === ns.length, "a sandbox's state is its own and persists between inputs");
  }
  ok(perSandbox.size >= 3, "the timeout and the crash each replaced the sandbox");
});
