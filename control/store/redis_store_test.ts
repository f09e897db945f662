import { FakeClock } from "../../proto/fake_clock.ts";
import { startRedis } from "../../tests/mod.ts";
import { connectRedisStore } from "./redis_store.ts";
import { RETENTION_MS, storeConformance } from "./_store_conformance.ts";

storeConformance("redis", async () => {
  const server = await startRedis();
  const clock = new FakeClock();
  const store = await connectRedisStore(server.url, {
    clock,
    retentionMs: RETENTION_MS,
    keyPrefix: "t:",
  });
  const teardown = async () => {
    await store.close();
    await server.stop();
  };
  return { store, clock, teardown };
});
