/**
 * The control plane's store: everything it remembers, as narrow contracts
 * composed into one {@linkcode Store}:
 *
 * | part              | contract            | what                                   |
 * | ----------------- | ------------------- | -------------------------------------- |
 * | `store.apps`      | {@linkcode AppStore}       | apps and their functions        |
 * | `store.blobs`     | {@linkcode BlobStore}      | content-addressed bytes (bundles) |
 * | `store.queue`     | {@linkcode CallQueue}      | inputs, leases, requeue, sweep  |
 * | `store.outputs`   | {@linkcode OutputStore}    | calls and their outputs         |
 * | `store.logs`      | {@linkcode LogBus}         | log fan-out per app             |
 * | `store.workers`   | {@linkcode WorkerRegistry} | live workers                    |
 * | `store.deployments` | {@linkcode DeploymentStore} | deployed names, versions, heartbeats |
 *
 * Each contract lives in its own file (`app_store.ts`, ...) with a memory
 * and a Redis implementation beside it (`memory_app_store.ts`,
 * `redis_app_store.ts`), its Lua scripts (one per atomic change, with a
 * KEYS/ARGV/result header) and its conformance cases
 * (`_app_store_conformance.ts`), which `memory_store_test.ts` and
 * `redis_store_test.ts` run against both stores.
 *
 * Adding a contract (secrets, volumes, schedules, deployments): write
 * `x_store.ts` (the interface and its records), `memory_x_store.ts`,
 * `redis_x_store.ts` (taking the shared `RedisContext`: its connection, key
 * prefix and clock) and `_x_store_conformance.ts`; add the part to
 * {@linkcode Store} and to each factory; run the cases in each per-store
 * test file.
 *
 * Time comes from the injected clock (`StoreOptions.clock`), so leases,
 * waits and retention are tested with fake time.
 * @module
 */
export type { Store, StoreOptions } from "./store.ts";
export type { AppRecord, AppStore, FunctionRecord } from "./app_store.ts";
export type { BlobStore } from "./blob_store.ts";
export type {
  CallQueue,
  Completion,
  HeldInput,
  InputRecord,
  Lease,
  LeaseOptions,
  RequeueReport,
  WaitOptions,
} from "./call_queue.ts";
export type { CallRecord, OutputPage, OutputRecord, OutputStore } from "./output_store.ts";
export type { LogBus, LogListener } from "./log_bus.ts";
export type { WorkerRecord, WorkerRegistry } from "./worker_registry.ts";
export type { Deployment, DeploymentStore, DeploymentVersion } from "./deployment_store.ts";
export { createMemoryStore } from "./memory_store.ts";
export { connectRedisStore, type RedisStoreOptions } from "./redis_store.ts";
export { RedisUnavailableError } from "./_redis_connection.ts";
