/**
 * The embedded {@linkcode Store}, the default of `serve` and `run`: the queue,
 * outputs, logs and workers in this process's memory; durable records in
 * SQLite (`<dataDir>/state.db`); blobs in files (`<dataDir>/blobs/`).
 * Several processes may open one data dir at once (a `serve` and a `run`,
 * or the CLI): SQLite serializes their writes and blobs are renamed into
 * place whole. Each process keeps its own queue.
 * @module
 */
import { systemClock } from "../../proto/clock.ts";
import { DEFAULT_RETENTION_MS, type Store, type StoreOptions } from "./store.ts";
import { MemoryCallQueue } from "./memory_call_queue.ts";
import { MemoryLogBus } from "./memory_log_bus.ts";
import { MemoryOutputStore } from "./memory_output_store.ts";
import { MemoryWorkerRegistry } from "./memory_worker_registry.ts";
import { FileBlobStore } from "./file_blob_store.ts";
import { APP_MIGRATIONS, SqliteAppStore } from "./sqlite_app_store.ts";
import { DEPLOYMENT_MIGRATIONS, SqliteDeploymentStore } from "./sqlite_deployment_store.ts";
import { type Migration, openDatabase } from "./_sqlite.ts";
import { SECRET_MIGRATIONS, SqliteSecretStore } from "./sqlite_secret_store.ts";
import { SqliteVolumeStore, VOLUME_MIGRATIONS } from "./sqlite_volume_store.ts";
import { SqliteTickLeases, TICK_LEASE_MIGRATIONS } from "./sqlite_tick_leases.ts";
import { isGoneProcess, processOwner } from "./_owner.ts";

/** Every durable contract's migrations, in the order they were added. */
const MIGRATIONS: Migration[] = [
  ...APP_MIGRATIONS,
  ...SECRET_MIGRATIONS,
  ...VOLUME_MIGRATIONS,
  ...DEPLOYMENT_MIGRATIONS,
  ...TICK_LEASE_MIGRATIONS,
];

/** Options for {@linkcode openEmbeddedStore}. */
export interface EmbeddedStoreOptions extends StoreOptions {
  /** Where durable records and blobs live; created (0700) if missing. */
  dataDir: string;
}

/**
 * Opens the embedded store on a data dir. Ephemeral apps of processes on this
 * host that have exited (the previous run of a server, say) are marked
 * stopped; deployed apps and bundles are there as they were left.
 *
 * @example
 * ```ts
 * import { openEmbeddedStore } from "./embedded_store.ts";
 * const dataDir = await Deno.makeTempDir();
 * const store = await openEmbeddedStore({ dataDir });
 * console.log(await store.apps.listApps()); // []
 * await store.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<Store> {
  const { dataDir } = options;
  const clock = options.clock ?? systemClock;
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(`${dataDir}/state.db`, MIGRATIONS);
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const apps = new SqliteAppStore(db, processOwner(), clock, retentionMs);
  try {
    apps.stopEphemeral(isGoneProcess);
    // `app list` shows the runs of the last day (the results' retention); older ones go, here
    // and then on each sweep of a server.
    await apps.forgetStopped();
  } catch (error) {
    db.close();
    throw error;
  }
  const blobs = new FileBlobStore(`${dataDir}/blobs`, clock);
  // An upload older than this was abandoned by a writer that died.
  await blobs.removeAbandoned(clock.now(), 3_600_000);
  const outputs = new MemoryOutputStore(clock, {
    retentionMs,
    budgetBytes: options.retainedOutputBytes,
  });
  const queue = new MemoryCallQueue(outputs, clock);
  let closed = false;
  return {
    kind: "embedded",
    apps,
    blobs,
    queue,
    outputs,
    logs: new MemoryLogBus(),
    workers: new MemoryWorkerRegistry(),
    secrets: new SqliteSecretStore(db),
    volumes: new SqliteVolumeStore(db, blobs),
    deployments: new SqliteDeploymentStore(db, clock),
    ticks: new SqliteTickLeases(db, clock),
    warnings: () => Promise.resolve([]),
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      queue.close();
      outputs.close();
      try {
        // This process's ephemeral apps end with it.
        apps.stopEphemeral(() => false, true);
      } finally {
        db.close();
      }
      return Promise.resolve();
    },
  };
}
