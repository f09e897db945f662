import { appStoreConformance } from "./app_store_conformance.ts";
import { MemoryAppStore } from "./memory_app_store.ts";

appStoreConformance(
  "memory",
  () => Promise.resolve({ store: new MemoryAppStore(), teardown: () => Promise.resolve() }),
);
