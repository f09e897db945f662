/**
 * {@linkcode AppStore} in the embedded store's SQLite database, so deployed
 * apps (and their versions, later) survive a restart. An app is a row with
 * the columns queries need and the whole record as JSON, so fields added to
 * `AppRecord` later need no migration.
 *
 * Each row names the process that created it (`owner`, `<host>/<pid>`): an
 * ephemeral app lives only as long as its process, so a store that opens
 * marks stopped the ephemeral apps of processes on this host that are gone,
 * and a store that closes marks its own.
 * @module
 */
import type { DatabaseSync, SqlValue } from "./_node_sqlite.d.ts";
import type { AppRecord, AppStore, FunctionRecord } from "./app_store.ts";
import { attempt, type Migration, transaction } from "./_sqlite.ts";
import { FunctionCache } from "./_function_cache.ts";
import { type Clock, systemClock } from "../../proto/clock.ts";
import { DEFAULT_RETENTION_MS } from "./store.ts";

/** The tables of apps and functions. */
export const APP_MIGRATIONS: Migration[] = [{
  id: "apps/1",
  sql: `
    CREATE TABLE apps (
      app_id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      ephemeral INTEGER NOT NULL,
      stopped INTEGER NOT NULL,
      created_ms INTEGER NOT NULL,
      owner TEXT NOT NULL,
      record TEXT NOT NULL
    );
    CREATE INDEX apps_by_name ON apps (name);
    CREATE TABLE functions (
      function_id TEXT PRIMARY KEY,
      app_id TEXT NOT NULL,
      name TEXT NOT NULL,
      def BLOB NOT NULL
    );
    CREATE INDEX functions_by_app ON functions (app_id);
  `,
}, {
  // When an app stopped (null: before this column), so stopped ephemeral apps can be pruned.
  id: "apps/2",
  sql: `
    ALTER TABLE apps ADD COLUMN stopped_ms INTEGER;
    CREATE INDEX apps_stopped ON apps (ephemeral, stopped);
  `,
}];

type Row = Record<string, SqlValue>;

/** Most app records kept between reads (a bound, not a working set: apps are few). */
const MAX_KEPT_APPS = 10_000;

function toApp(row: Row): AppRecord {
  return { ...JSON.parse(String(row.record)), stopped: row.stopped === 1 };
}

/** Apps and functions in SQLite. */
export class SqliteAppStore implements AppStore {
  #db: DatabaseSync;
  #owner: string;
  #clock: Clock;
  /** Function records never change under their id: read once (see `_function_cache.ts`). */
  readonly #functions = new FunctionCache();
  /**
   * App records read since the database last changed: every warm call asks
   * for its app, and reading the row cost ~16 µs of the control plane's time
   * per call. Other processes may write the same file (several share a data
   * dir), so a read first asks SQLite whether anything changed since.
   */
  readonly #apps = new Map<string, AppRecord>();
  #dataVersion = -1;

  #retentionMs: number;

  /**
   * Uses `db` (migrated with {@linkcode APP_MIGRATIONS}); rows it writes name
   * `owner`. Stopped ephemeral apps go `retentionMs` after they stop.
   */
  constructor(
    db: DatabaseSync,
    owner: string,
    clock: Clock = systemClock,
    retentionMs = DEFAULT_RETENTION_MS,
  ) {
    this.#db = db;
    this.#owner = owner;
    this.#clock = clock;
    this.#retentionMs = retentionMs;
  }

  putApp(app: AppRecord, functions: FunctionRecord[]): Promise<void> {
    return attempt(() => {
      const { stopped, ...rest } = app;
      transaction(this.#db, () => {
        this.#db.prepare(
          `INSERT OR REPLACE INTO apps
             (app_id, name, ephemeral, stopped, created_ms, owner, record, stopped_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          app.appId,
          app.name,
          +app.ephemeral,
          +stopped,
          app.createdMs,
          this.#owner,
          JSON.stringify(rest),
          stopped ? this.#clock.now() : null,
        );
        const put = this.#db.prepare(
          "INSERT OR REPLACE INTO functions (function_id, app_id, name, def) VALUES (?, ?, ?, ?)",
        );
        for (const fn of functions) put.run(fn.functionId, fn.appId, fn.name, fn.def);
      });
      this.#forget();
    });
  }

  getApp(appId: string): Promise<AppRecord | undefined> {
    return attempt(() => {
      this.#forgetIfChanged();
      const kept = this.#apps.get(appId);
      if (kept) return { ...kept };
      const row = this.#db.prepare("SELECT stopped, record FROM apps WHERE app_id = ?").get(appId);
      if (!row) return undefined;
      const app = toApp(row);
      if (this.#apps.size >= MAX_KEPT_APPS) this.#apps.clear();
      this.#apps.set(appId, app);
      return { ...app };
    });
  }

  /**
   * Forgets the kept apps when another connection has committed since the last
   * look: `PRAGMA data_version` moves for others' commits only, so this store's
   * own writes forget them themselves ({@linkcode SqliteAppStore.#forget}).
   */
  #forgetIfChanged(): void {
    const row = this.#db.prepare("PRAGMA data_version").get();
    const version = Number(row?.data_version);
    if (version !== this.#dataVersion) {
      this.#apps.clear();
      this.#dataVersion = version;
    }
  }

  /** Forgets the kept apps (after this store wrote apps). */
  #forget(): void {
    this.#apps.clear();
  }

  listApps(options: { live?: boolean } = {}): Promise<AppRecord[]> {
    // Written so that the (ephemeral, stopped) index finds them, not a scan of a day of runs.
    const where = options.live ? " WHERE ephemeral IN (0, 1) AND stopped = 0" : "";
    return attempt(() =>
      this.#db.prepare(`SELECT stopped, record FROM apps${where} ORDER BY created_ms`).all()
        .map(toApp)
    );
  }

  stopApp(appId: string): Promise<boolean> {
    return attempt(() => {
      const found = this.#db.prepare(
        "UPDATE apps SET stopped = 1, stopped_ms = coalesce(stopped_ms, ?) WHERE app_id = ?",
      ).run(this.#clock.now(), appId);
      this.#forget();
      return Number(found.changes) > 0;
    });
  }

  getFunction(functionId: string): Promise<FunctionRecord | undefined> {
    const kept = this.#functions.get(functionId);
    if (kept) return Promise.resolve(kept);
    return attempt(() => {
      const row = this.#db.prepare(
        "SELECT function_id, app_id, name, def FROM functions WHERE function_id = ?",
      ).get(functionId);
      if (!row) return undefined;
      return this.#functions.keep({
        functionId: String(row.function_id),
        appId: String(row.app_id),
        name: String(row.name),
        def: new Uint8Array(row.def as Uint8Array),
      });
    });
  }

  forgetStopped(): Promise<number> {
    return attempt(() => this.pruneStopped(this.#clock.now() - this.#retentionMs));
  }

  /**
   * Deletes the ephemeral apps stopped before `beforeMs` (those stopped
   * before stop times were kept: created before it), with their functions;
   * returns how many. Nothing of theirs outlives their process in this store
   * (outputs and logs are in memory), and every `nano-modal run` leaves one:
   * kept, they made each later start read thousands of rows.
   */
  pruneStopped(beforeMs: number): number {
    const old = `SELECT app_id FROM apps WHERE ephemeral = 1 AND stopped = 1
        AND coalesce(stopped_ms, created_ms) < ?`;
    // A server asks on every sweep: a read when nothing is due, no write lock taken.
    if (!this.#db.prepare(`${old} LIMIT 1`).get(beforeMs)) return 0;
    let pruned = 0;
    transaction(this.#db, () => {
      this.#db.prepare(`DELETE FROM functions WHERE app_id IN (${old})`).run(beforeMs);
      pruned = Number(
        this.#db.prepare(`DELETE FROM apps WHERE app_id IN (${old})`).run(beforeMs)
          .changes,
      );
    });
    this.#forget();
    return pruned;
  }

  /**
   * Marks stopped the running ephemeral apps whose owner is gone (`isGone`)
   * or, with `own`, those of this store; returns how many.
   */
  stopEphemeral(isGone: (owner: string) => boolean, own = false): number {
    const rows = this.#db.prepare(
      "SELECT DISTINCT owner FROM apps WHERE ephemeral = 1 AND stopped = 0",
    ).all();
    const stop = this.#db.prepare(
      "UPDATE apps SET stopped = 1, stopped_ms = ? WHERE ephemeral = 1 AND stopped = 0 AND owner = ?",
    );
    let stopped = 0;
    for (const { owner } of rows) {
      const name = String(owner);
      if ((own && name === this.#owner) || (name !== this.#owner && isGone(name))) {
        stopped += Number(stop.run(this.#clock.now(), name).changes);
      }
    }
    this.#forget();
    return stopped;
  }
}
