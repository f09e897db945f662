import { Redis } from "../_deps.ts";
import { secretStoreConformance } from "./secret_store_conformance.ts";
import { RedisSecretStore } from "./redis_secret_store.ts";
import { startRedis } from "../../tests/mod.ts";

secretStoreConformance("redis", async () => {
  const server = await startRedis();
  const redis = new Redis(server.url);
  return {
    store: new RedisSecretStore(redis, "t:"),
    teardown: async () => {
      redis.disconnect();
      await server.stop();
    },
  };
});
