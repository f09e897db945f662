import { equal } from "node:assert/strict";
import { EvictedIds } from "./_evicted_ids.ts";

Deno.test("EvictedIds remembers the latest evicted ids and forgets the oldest past its cap", () => {
  const ids = new EvictedIds(3);
  for (const id of ["fc-a", "fc-b", "fc-c", "fc-d"]) ids.add(id);
  equal(ids.has("fc-a"), false, "the oldest is forgotten past the cap");
  equal(ids.has("fc-b"), true);
  equal(ids.has("fc-d"), true);
  equal(ids.has("fc-never"), false);
  equal(ids.count, 4, "the count goes on");
});
