/** The `BlobStore` contract, as cases every store runs. */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import type { Case } from "./_conformance_fixture.ts";

/** Cases of `store.blobs`. */
export const BLOB_STORE_CASES: Record<string, Case> = {
  "put() stores bytes that has() and get() return": async ({ store }) => {
    const data = new Uint8Array([0, 1, 2, 255, 10]);
    equal(await store.blobs.has("h1"), false);
    equal(await store.blobs.get("h1"), undefined);
    await store.blobs.put("h1", data);
    equal(await store.blobs.has("h1"), true);
    deepStrictEqual(await store.blobs.get("h1"), data);
    await store.blobs.put("h1", data);
    deepStrictEqual(await store.blobs.get("h1"), data, "a second put changes nothing");
  },

  "put() keeps its own copy, and empty and large blobs round-trip": async ({ store }) => {
    const data = new Uint8Array([5, 6, 7]);
    await store.blobs.put("h2", data);
    data[0] = 9;
    deepStrictEqual(await store.blobs.get("h2"), new Uint8Array([5, 6, 7]));
    await store.blobs.put("empty", new Uint8Array());
    equal(await store.blobs.has("empty"), true);
    deepStrictEqual(await store.blobs.get("empty"), new Uint8Array());
    const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => i % 251);
    await store.blobs.put("big", big);
    deepStrictEqual(await store.blobs.get("big"), big);
    ok(store.blobs.maxBytes >= 64 * 1024 * 1024, "bundles up to the RPC limit fit");
  },

  "untouchedSince() lists blobs unused since a time; deleteUntouched() spares those used since":
    async (
      { store, clock },
    ) => {
      const t0 = clock.now();
      const data = new Uint8Array([1, 2, 3]);
      for (const h of ["a", "b", "c"]) await store.blobs.put(h, data);
      clock.advance(10);
      equal(await store.blobs.has("b"), true, "asking is a use");
      await store.blobs.put("c", data); // storing again is a use
      equal(await store.blobs.has("nope"), false);
      deepStrictEqual((await store.blobs.untouchedSince(t0 + 5)).sort(), ["a"]);
      deepStrictEqual(await store.blobs.untouchedSince(t0), [], "the cutoff is exclusive");
      equal(await store.blobs.deleteUntouched(["a", "b", "c", "nope"], t0 + 5), 1);
      equal(await store.blobs.has("a"), false);
      equal(await store.blobs.get("a"), undefined);
      deepStrictEqual(await store.blobs.get("c"), data);
      clock.advance(10);
      const old = (await store.blobs.untouchedSince(t0 + 15)).sort();
      deepStrictEqual(old, ["b", "c"]);
      // Asked for after the listing, before the delete: it stays.
      equal(await store.blobs.has("b"), true);
      equal(await store.blobs.deleteUntouched(old, t0 + 15), 1);
      deepStrictEqual(await store.blobs.get("b"), data);
      equal(await store.blobs.get("c"), undefined);
      await store.blobs.put("c", data);
      deepStrictEqual(await store.blobs.get("c"), data, "a deleted blob can be stored again");
    },
};
