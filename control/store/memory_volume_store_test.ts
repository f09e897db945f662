import { volumeStoreConformance } from "./volume_store_conformance.ts";
import { MemoryVolumeStore } from "./memory_volume_store.ts";

volumeStoreConformance(
  "memory",
  () => Promise.resolve({ store: new MemoryVolumeStore(), teardown: () => Promise.resolve() }),
);
