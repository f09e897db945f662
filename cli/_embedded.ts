/** A control plane with workers in this process (for `run` without a server, and `serve --with-workers`). */
import { openEmbeddedStore, startServer, type StateOptions, type Store } from "../control/mod.ts";
import type { EventLog } from "../proto/mod.ts";
import { configuredDataDir } from "./config.ts";
import { UsageError } from "./errors.ts";
import { type Runner, Worker } from "../runner/mod.ts";
import { VERSION } from "../sdk/mod.ts";
import { cacheDir } from "./_runner.ts";

/** What {@linkcode startEmbedded} started. */
export interface Embedded {
  /** The control plane's URL (loopback). */
  url: string;
  /** The token it requires, if any. */
  token: string | undefined;
  /** Rejects if an embedded worker stops on an error (nothing would run the inputs). */
  failed: Promise<never>;
  /** Stops the workers, then the server and its store. */
  close(): Promise<void>;
}

/** Options for {@linkcode startEmbedded}. */
export interface EmbeddedOptions {
  /** How the embedded workers run sandboxes. */
  runner: Runner;
  /** How many workers to start. */
  workers: number;
  /** Whether workers keep a spare sandbox ready (see `WorkerOptions.spare`). @default false */
  spare?: boolean;
  /** Where to keep state; by default the embedded store on the configured data dir. */
  store?: Store;
  /** Interface to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** Port to listen on. @default 0 (any free port) */
  port?: number;
  /** The token clients and workers must present. */
  token?: string;
  /** A separate token for workers that connect over the network (embedded ones need none). */
  workerToken?: string;
  /** Inputs each worker runs at once. */
  workerCapacity?: number;
  /** Reported by `Ping`; defaults to this package's version. */
  version?: string;
  /** Where the server and its workers announce events. @default silent */
  eventLog?: EventLog;
  /** How secrets are sealed (the key file's data dir) and volumes limited. */
  state?: StateOptions;
}

/** Starts a server and `workers` workers that connect to it over loopback. */
export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  const store = options.store ?? await openDataDir(configuredDataDir());
  const server = await startServer({
    store,
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    token: options.token,
    workerToken: options.workerToken,
    version: options.version ?? VERSION,
    eventLog: options.eventLog,
    state: options.state ?? { dataDir: configuredDataDir() },
  });
  const local = `http://127.0.0.1:${server.port}`;
  const workers = Array.from({ length: options.workers }, () =>
    new Worker({
      serverUrl: local,
      transport: server.inProcessTransport(),
      token: options.token,
      runner: options.runner,
      capacity: options.workerCapacity,
      cacheDir: cacheDir(),
      spare: options.spare,
      events: options.eventLog,
    }));
  const failure = Promise.withResolvers<never>();
  failure.promise.catch(() => {}); // observed by callers that care
  const running = workers.map((w) => w.run().catch((err) => failure.reject(err)));
  return {
    url: server.url,
    token: options.token,
    failed: failure.promise,
    async close() {
      for (const w of workers) w.stop();
      await Promise.allSettled(running);
      await server.close();
      await store.close();
    },
  };
}

/** Opens the embedded store on `dataDir`, failing with one line that says what to do. */
export async function openDataDir(
  dataDir: string,
  options: { retentionMs?: number; retainedOutputBytes?: number } = {},
): Promise<Store> {
  try {
    return await openEmbeddedStore({ dataDir, ...options });
  } catch (err) {
    throw new UsageError(
      `Cannot open the data dir ${dataDir} (${(err as Error).message}): pass --data-dir or ` +
        "set NANO_MODAL_DATA_DIR to a directory you can write",
    );
  }
}
