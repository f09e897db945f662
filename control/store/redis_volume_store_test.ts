import { Redis } from "../_deps.ts";
import { volumeStoreConformance } from "./volume_store_conformance.ts";
import { RedisVolumeStore } from "./redis_volume_store.ts";
import { startRedis } from "../../tests/mod.ts";

volumeStoreConformance("redis", async () => {
  const server = await startRedis();
  const redis = new Redis(server.url);
  return {
    store: new RedisVolumeStore(redis, "t:"),
    teardown: async () => {
      redis.disconnect();
      await server.stop();
    },
  };
});
