/** The `TickLeases` contract, as cases every store runs. */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { Case } from "./_conformance_fixture.ts";

/** Cases of `store.ticks`. */
export const TICK_LEASE_CASES: Record<string, Case> = {
  "claim() is true once per (key, tick), and never for an older tick": async ({ store }) => {
    strictEqual(await store.ticks.claim("fu-1", 2_000), true);
    strictEqual(await store.ticks.claim("fu-1", 2_000), false);
    strictEqual(await store.ticks.claim("fu-1", 1_000), false, "an older tick");
    strictEqual(await store.ticks.claim("fu-2", 2_000), true, "another key");
    strictEqual(await store.ticks.claim("fu-1", 3_000), true, "the next tick");
    strictEqual(await store.ticks.claim("fu-1", 2_000), false, "behind the latest");
  },
  "concurrent claims of one tick: exactly one wins": async ({ store }) => {
    const tries = await Promise.all(
      Array.from({ length: 20 }, () => store.ticks.claim("fu-1", 5_000)),
    );
    strictEqual(tries.filter(Boolean).length, 1);
    const keys = await Promise.all(
      Array.from({ length: 5 }, (_, i) => store.ticks.claim(`fu-${i}`, 5_000)),
    );
    deepStrictEqual(keys, [true, false, true, true, true]);
  },
  "a claim older than its ttl is forgotten": async ({ store, clock }) => {
    strictEqual(await store.ticks.claim("fu-1", 9_000, 10_000), true);
    clock.advance(9_999);
    strictEqual(await store.ticks.claim("fu-1", 9_000, 10_000), false);
    clock.advance(1);
    strictEqual(await store.ticks.claim("fu-1", 9_000, 10_000), true);
  },
};
