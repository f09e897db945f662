/**
 * The all-in-memory {@linkcode Store}: nothing survives the process. For
 * tests and throwaway servers; `serve` and `run` use the embedded store,
 * which keeps durable records on disk.
 * @module
 */
import { systemClock } from "../../proto/clock.ts";
import { DEFAULT_RETENTION_MS, type Store, type StoreOptions } from "./store.ts";
import { MemoryAppStore } from "./memory_app_store.ts";
import { MemoryBlobStore } from "./memory_blob_store.ts";
import { MemoryCallQueue } from "./memory_call_queue.ts";
import { MemoryLogBus } from "./memory_log_bus.ts";
import { MemoryOutputStore } from "./memory_output_store.ts";
import { MemoryWorkerRegistry } from "./memory_worker_registry.ts";
import { MemorySecretStore } from "./memory_secret_store.ts";
import { MemoryVolumeStore } from "./memory_volume_store.ts";
import { MemoryDeploymentStore } from "./memory_deployment_store.ts";
import { MemoryTickLeases } from "./memory_tick_leases.ts";

/**
 * Creates a store that keeps everything in this process's memory.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from "./memory_store.ts";
 * const store = createMemoryStore();
 * console.log(await store.blobs.has("abc")); // false
 * await store.close();
 * ```
 */
export function createMemoryStore(options: StoreOptions = {}): Store {
  const clock = options.clock ?? systemClock;
  const outputs = new MemoryOutputStore(clock, {
    retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS,
    budgetBytes: options.retainedOutputBytes,
  });
  const queue = new MemoryCallQueue(outputs, clock);
  return {
    kind: "memory",
    apps: new MemoryAppStore(clock, options.retentionMs ?? DEFAULT_RETENTION_MS),
    blobs: new MemoryBlobStore(clock),
    queue,
    outputs,
    logs: new MemoryLogBus(),
    workers: new MemoryWorkerRegistry(),
    secrets: new MemorySecretStore(),
    volumes: new MemoryVolumeStore(),
    deployments: new MemoryDeploymentStore(clock),
    ticks: new MemoryTickLeases(clock),
    warnings: () => Promise.resolve([]),
    close() {
      queue.close();
      outputs.close();
      return Promise.resolve();
    },
  };
}
