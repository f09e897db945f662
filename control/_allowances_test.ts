import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { allowanceFor, type Claim, demandOf, fairShares } from "./_allowances.ts";

const claim = (workerId: string, holding: number, demand: number): Claim => ({
  workerId,
  holding,
  demand,
});
const self = (workerId: string, containers: number, demand: number) => ({
  ...claim(workerId, containers, demand),
  containers,
});

Deno.test("demandOf() wants a container per concurrency inputs plus the buffer, or the warm duty, up to max", () => {
  const base = { held: 0, concurrency: 1, buffer: 0, warm: 0, max: 16 };
  strictEqual(demandOf(base), 0);
  strictEqual(demandOf({ ...base, held: 5 }), 5);
  strictEqual(demandOf({ ...base, held: 5, concurrency: 2 }), 3);
  strictEqual(demandOf({ ...base, held: 1, buffer: 2 }), 3);
  strictEqual(demandOf({ ...base, warm: 2 }), 2, "a warm duty wants minContainers while idle");
  strictEqual(demandOf({ ...base, held: 40, max: 2 }), 2);
});

Deno.test("fairShares() splits max-min fairly, ties to the lower worker id, never past a demand", () => {
  deepStrictEqual(
    Object.fromEntries(fairShares(2, [claim("b", 0, 5), claim("a", 0, 5), claim("c", 0, 5)])),
    { a: 1, b: 1, c: 0 },
  );
  deepStrictEqual(
    Object.fromEntries(fairShares(10, [claim("a", 0, 8), claim("b", 0, 1)])),
    { a: 8, b: 1 },
    "what one does not want goes to the other, up to its demand",
  );
  deepStrictEqual(Object.fromEntries(fairShares(10, [claim("a", 0, 2)])), { a: 2 });
});

Deno.test("two workers that both see a backlog split maxContainers instead of each taking it all", () => {
  // Both answered from the same snapshot (nothing held yet): 1 each.
  const a = allowanceFor(self("a", 0, 4), { max: 2, others: [claim("b", 0, 4)] });
  const b = allowanceFor(self("b", 0, 4), { max: 2, others: [claim("a", 0, 4)] });
  strictEqual(a + b, 2);
  strictEqual(a, 1);
  // One after the other: b sees a's allowance as a holding.
  strictEqual(allowanceFor(self("b", 0, 4), { max: 2, others: [claim("a", 1, 4)] }), 1);
});

Deno.test("an allowance never exceeds what the other workers' holdings leave of max", () => {
  for (let max = 1; max <= 6; max++) {
    for (let held = 0; held <= max + 1; held++) {
      for (let demand = 0; demand <= max + 2; demand++) {
        const others = [claim("x", held, 3), claim("y", 1, 0)];
        const n = allowanceFor(self("w", 0, demand), { max, others });
        ok(n >= 0 && n <= Math.max(0, max - held - 1), `max ${max} held ${held} demand ${demand}`);
      }
    }
  }
});

Deno.test("a lone worker keeps its idle containers and grows to its demand", () => {
  strictEqual(allowanceFor(self("a", 3, 0), { max: 16, others: [] }), 3, "idle ones stay");
  strictEqual(allowanceFor(self("a", 3, 10), { max: 16, others: [] }), 10);
  strictEqual(allowanceFor(self("a", 0, 40), { max: 16, others: [] }), 16);
});

Deno.test("a worker above its fair share is cut to it while another worker is short", () => {
  // a runs 2 (max 2), c holds inputs and has none: a goes down to 1.
  strictEqual(allowanceFor(self("a", 2, 3), { max: 2, others: [claim("c", 0, 3)] }), 1);
  // a's inputs are done: it gives all back.
  strictEqual(
    allowanceFor(self("a", 1, 0), { max: 2, others: [claim("b", 1, 3), claim("c", 0, 3)] }),
    0,
  );
  // Nobody short: a keeps its idle container.
  strictEqual(allowanceFor(self("a", 1, 0), { max: 2, others: [claim("b", 1, 1)] }), 1);
});
