import { strictEqual } from "node:assert/strict";
import { FunctionCache } from "./_function_cache.ts";

const rec = (id: string) => ({ functionId: id, appId: "ap-1", name: id, def: new Uint8Array() });

Deno.test("FunctionCache keeps the latest records up to its bound, the oldest going first", () => {
  const cache = new FunctionCache(2);
  cache.keep(rec("fu-a"));
  cache.keep(rec("fu-b"));
  cache.keep(rec("fu-b")); // kept again: no eviction
  strictEqual(cache.size, 2);
  strictEqual(cache.get("fu-a")?.name, "fu-a");
  cache.keep(rec("fu-c"));
  strictEqual(cache.get("fu-a"), undefined, "the oldest went");
  strictEqual(cache.get("fu-c")?.name, "fu-c");
  strictEqual(cache.size, 2);
});
