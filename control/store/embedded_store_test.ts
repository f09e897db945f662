import { FakeClock } from "../../proto/fake_clock.ts";
import { openEmbeddedStore } from "./embedded_store.ts";
import { RETENTION_MS, storeConformance } from "./_store_conformance.ts";

storeConformance("embedded", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "nano_modal_store_" });
  const clock = new FakeClock();
  const store = await openEmbeddedStore({ dataDir, clock, retentionMs: RETENTION_MS });
  const teardown = async () => {
    await store.close();
    await Deno.remove(dataDir, { recursive: true });
  };
  return { store, clock, teardown };
});
