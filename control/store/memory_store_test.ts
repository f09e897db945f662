import { FakeClock } from "../../proto/fake_clock.ts";
import { createMemoryStore } from "./memory_store.ts";
import { RETENTION_MS, storeConformance } from "./_store_conformance.ts";

storeConformance("memory", () => {
  const clock = new FakeClock();
  const store = createMemoryStore({ clock, retentionMs: RETENTION_MS });
  return Promise.resolve({ store, clock, teardown: () => store.close() });
});
