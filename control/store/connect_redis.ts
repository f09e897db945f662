/**
 * The door to the Redis store that loads none of it: its ~25 modules (and
 * ioredis) load on the first {@linkcode connectRedisStore}, so a control plane
 * on the embedded store (`serve`, and every `run` with no server) never reads
 * them.
 * @module
 */
import type { Store } from "./store.ts";
import type { RedisStoreOptions } from "./redis_store.ts";

export type { RedisStoreOptions };

/**
 * Connects to Redis and subscribes to its wake-up channels, failing with
 * `RedisUnavailableError` if Redis cannot be reached (see `redis_store.ts`).
 *
 * @example
 * ```ts ignore
 * import { connectRedisStore } from "./connect_redis.ts";
 * const store = await connectRedisStore("redis://127.0.0.1:6379");
 * await store.close();
 * ```
 */
export async function connectRedisStore(
  url: string,
  options: RedisStoreOptions = {},
): Promise<Store> {
  return await (await import("./redis_store.ts")).connectRedisStore(url, options);
}
