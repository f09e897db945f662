import { Redis } from "../_deps.ts";
import { appStoreConformance } from "./app_store_conformance.ts";
import { RedisAppStore } from "./redis_app_store.ts";
import { startRedis } from "../../tests/mod.ts";

appStoreConformance("redis", async () => {
  const server = await startRedis();
  const redis = new Redis(server.url);
  return {
    store: new RedisAppStore(redis, "t:"),
    teardown: async () => {
      redis.disconnect();
      await server.stop();
    },
  };
});
