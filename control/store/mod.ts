/**
 * The control plane's store: everything it remembers, as narrow contracts
 * composed into one {@linkcode Store}:
 *
 * | part            | contract                   | memory | embedded        | Redis       |
 * | --------------- | -------------------------- | ------ | --------------- | ----------- |
 * | `store.apps`    | {@linkcode AppStore}       | memory | SQLite          | Redis       |
 * | `store.blobs`   | {@linkcode BlobStore}      | memory | files           | Redis, chunked |
 * | `store.queue`   | {@linkcode CallQueue}      | memory | memory          | Redis       |
 * | `store.outputs` | {@linkcode OutputStore}    | memory | memory          | Redis       |
 * | `store.logs`    | {@linkcode LogBus}         | memory | memory          | Redis pub/sub |
 * | `store.workers` | {@linkcode WorkerRegistry} | memory | memory          | Redis       |
 * | `store.secrets` | {@linkcode SecretStore}    | memory | SQLite          | Redis       |
 * | `store.volumes` | {@linkcode VolumeStore}    | memory | SQLite + files  | Redis, chunked |
 * | `store.deployments` | {@linkcode DeploymentStore} | memory | SQLite (heartbeats, depths: memory) | Redis |
 * | `store.ticks`   | {@linkcode TickLeases}     | memory | SQLite          | Redis       |
 *
 * Three factories: {@linkcode openEmbeddedStore} (the default of `serve` and
 * `run`: durable records in `<dataDir>/state.db` through `node:sqlite`, blobs
 * in `<dataDir>/blobs/`, the rest in memory), {@linkcode connectRedisStore}
 * (everything in Redis, shared by many control planes) and
 * {@linkcode createMemoryStore} (nothing survives; for tests).
 *
 * Each contract lives in its own file (`app_store.ts`, ...) with its
 * implementations beside it (`memory_app_store.ts`, `sqlite_app_store.ts`,
 * `redis_app_store.ts`), its Lua scripts (one per atomic change, with a
 * KEYS/ARGV/result header; keys in `_redis_keys.ts`) and its conformance
 * cases (`_app_store_conformance.ts`), which `memory_store_test.ts`,
 * `embedded_store_test.ts` and `redis_store_test.ts` run against each store.
 *
 * ## Adding a durable contract (secrets, volumes, deployments, schedules)
 * 1. `x_store.ts`: the interface and its records; async methods, safe to
 *    call concurrently; JSDoc on every member.
 * 2. `memory_x_store.ts`; `sqlite_x_store.ts`, taking the `DatabaseSync` and
 *    exporting `X_MIGRATIONS: Migration[]` (ids `x/1`, `x/2`, ... never
 *    edited once merged; see `_sqlite.ts`: WAL, busy timeout, each migration
 *    applied once per database under the write lock); `redis_x_store.ts`,
 *    taking the shared `RedisContext` (connection, key prefix, clock,
 *    `define()` for its scripts).
 * 3. Large or shared bytes (volume file contents) go in `store.blobs` by
 *    content hash: files in the embedded store, chunks in Redis (limit
 *    `MAX_BLOB_BYTES` in `redis_blob_store.ts`), so records hold only hashes.
 * 4. Add `readonly x: XStore` to {@linkcode Store}; build it in
 *    `memory_store.ts`, `embedded_store.ts` (append `X_MIGRATIONS` to its
 *    `MIGRATIONS`) and `redis_store.ts`.
 * 5. `_x_store_conformance.ts` exporting `X_STORE_CASES`; register them in
 *    `_store_conformance.ts`, so every store runs them.
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
export type { SecretRecord, SecretStore, SecretSummary } from "./secret_store.ts";
export type {
  CommitResult,
  VolumeChangeRecord,
  VolumeFile,
  VolumeLimits,
  VolumeStore,
  VolumeSummary,
} from "./volume_store.ts";
export type {
  Deployment,
  DeploymentStore,
  DeploymentVersion,
  NextVersion,
} from "./deployment_store.ts";
export { DEFAULT_TICK_LEASE_MS, type TickLeases } from "./tick_leases.ts";
export { createMemoryStore } from "./memory_store.ts";
export { type EmbeddedStoreOptions, openEmbeddedStore } from "./embedded_store.ts";
export { connectRedisStore, type RedisStoreOptions } from "./connect_redis.ts";
export { RedisUnavailableError } from "./_redis_connection.ts";
/** The clock type of {@linkcode StoreOptions.clock}. */
export type { Clock, TimerHandle } from "../../proto/clock.ts";
