import { secretStoreConformance } from "./secret_store_conformance.ts";
import { MemorySecretStore } from "./memory_secret_store.ts";

secretStoreConformance(
  "memory",
  () => Promise.resolve({ store: new MemorySecretStore(), teardown: () => Promise.resolve() }),
);
