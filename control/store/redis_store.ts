/**
 * The Redis {@linkcode Store}: state in a Redis server that many control
 * planes share, so they are stateless and any may serve any client or
 * worker. Requires `maxmemory-policy noeviction`: see `warnings()`.
 * @module
 */
import { systemClock } from "../../proto/clock.ts";
import { DEFAULT_RETENTION_MS, type Store, type StoreOptions } from "./store.ts";
import { RedisContext } from "./_redis_context.ts";
import { describeUrl, explainFailure, loadRedisClient } from "./_redis_connection.ts";
import { RedisAppStore } from "./redis_app_store.ts";
import { RedisBlobStore } from "./redis_blob_store.ts";
import { RedisCallQueue } from "./redis_call_queue.ts";
import { RedisLogBus } from "./redis_log_bus.ts";
import { RedisOutputStore } from "./redis_output_store.ts";
import { RedisWorkerRegistry } from "./redis_worker_registry.ts";
import { RedisSecretStore } from "./redis_secret_store.ts";
import { RedisVolumeStore } from "./redis_volume_store.ts";
import { RedisDeploymentStore } from "./redis_deployment_store.ts";
import { RedisTickLeases } from "./redis_tick_leases.ts";

/** Options for {@linkcode connectRedisStore}. */
export interface RedisStoreOptions extends StoreOptions {
  /** Prepended to every key and channel, so deployments can share a Redis. @default "nm:" */
  keyPrefix?: string;
}

/**
 * Connects to Redis and subscribes to its wake-up channels, failing with
 * `RedisUnavailableError` if Redis cannot be reached.
 *
 * @example
 * ```ts ignore
 * import { connectRedisStore } from "./redis_store.ts";
 * const store = await connectRedisStore("redis://127.0.0.1:6379");
 * for (const warning of await store.warnings()) console.warn(warning);
 * await store.close();
 * ```
 */
export async function connectRedisStore(
  url: string,
  options: RedisStoreOptions = {},
): Promise<Store> {
  await loadRedisClient();
  const ctx = new RedisContext({
    url,
    clock: options.clock ?? systemClock,
    retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS,
    keyPrefix: options.keyPrefix ?? "nm:",
  });
  const blobs = new RedisBlobStore(ctx);
  const store: Store = {
    kind: "redis",
    apps: new RedisAppStore(ctx),
    blobs,
    queue: new RedisCallQueue(ctx),
    outputs: new RedisOutputStore(ctx),
    logs: new RedisLogBus(ctx),
    workers: new RedisWorkerRegistry(ctx),
    secrets: new RedisSecretStore(ctx),
    volumes: new RedisVolumeStore(ctx, blobs),
    deployments: new RedisDeploymentStore(ctx),
    ticks: new RedisTickLeases(ctx),
    warnings: () => warnings(ctx),
    close: () => ctx.close(),
  };
  try {
    await ctx.run(async (r) => {
      await r.ping();
      await ctx.events.ready();
    });
  } catch (error) {
    await ctx.close();
    throw error;
  }
  return store;
}

/** Configuration problems that can lose inputs, as messages for the operator. */
function warnings(ctx: RedisContext): Promise<string[]> {
  const where = describeUrl(ctx.url);
  return ctx.run(async (r) => {
    let policy: string;
    try {
      policy = ((await r.config("GET", "maxmemory-policy")) as string[])[1];
    } catch (error) {
      if (explainFailure(error, ctx.url) !== error) throw error;
      return [
        `WARNING: cannot read maxmemory-policy from Redis at ${where} (${error}): make sure ` +
        "it is noeviction, or Redis may evict keys and silently lose queued inputs.",
      ];
    }
    if (policy === "noeviction") return [];
    return [
      `WARNING: Redis at ${where} has maxmemory-policy "${policy}": when memory fills up, ` +
      "Redis evicts keys, which loses queued inputs, leases and results. Fix it with " +
      "`redis-cli CONFIG SET maxmemory-policy noeviction` (and in redis.conf).",
    ];
  });
}
