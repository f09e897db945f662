/**
 * The embedded store's SQLite database (`node:sqlite`): WAL, so readers never
 * wait for a writer; a busy timeout, so two processes on one data dir queue
 * for the write lock instead of failing; and named migrations, so each
 * durable contract brings its own tables (`apps/1`, `secrets/1`, ...) and
 * contracts added later never collide on a version number.
 * @module
 */
// @ts-ignore: with dockerode in the graph, its @types/node (older than node:sqlite) wins.
import * as nodeSqlite from "node:sqlite";
import type * as Sqlite from "./_node_sqlite.d.ts";

const { DatabaseSync } = nodeSqlite as unknown as typeof Sqlite;
type DatabaseSync = Sqlite.DatabaseSync;

/** One step of a contract's schema; applied once per database, in list order. */
export interface Migration {
  /** `<contract>/<n>`, never reused or edited once released. */
  id: string;
  /** Statements run in one transaction. */
  sql: string;
}

/** How long a writer waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 10_000;

/** Opens (creating if needed) the database at `path` and applies missing migrations. */
export function openDatabase(path: string, migrations: Migration[]): DatabaseSync {
  const db = new DatabaseSync(path);
  cacheStatements(db);
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    useWal(db);
    db.exec("PRAGMA synchronous = NORMAL");
    migrate(db, migrations);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * Makes `db.prepare` return one compiled statement per SQL text: the stores
 * prepare their (constant) SQL where they use it, and compiling it again on
 * every warm call cost ~28 µs of the control plane's time per call.
 * A statement is reset by each `run`/`get`/`all`, so reuse is safe.
 */
function cacheStatements(db: DatabaseSync): void {
  const compiled = new Map<string, ReturnType<DatabaseSync["prepare"]>>();
  const prepare = db.prepare.bind(db);
  db.prepare = (sql: string) => {
    let statement = compiled.get(sql);
    if (!statement) compiled.set(sql, statement = prepare(sql));
    return statement;
  };
}

/**
 * Switches a database to WAL once (the mode is kept in the file). The switch
 * needs the database to itself and SQLite does not apply the busy timeout to
 * it, so a second process opening a fresh data dir at the same moment retries.
 */
function useWal(db: DatabaseSync): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let wait = 5;; wait = Math.min(wait * 2, 200)) {
    try {
      const row = db.prepare("PRAGMA journal_mode").get();
      if (String(row?.journal_mode).toLowerCase() === "wal") return;
      db.exec("PRAGMA journal_mode = WAL");
      return;
    } catch (err) {
      if (!/locked|busy/i.test(String((err as Error).message)) || Date.now() > deadline) throw err;
      // A synchronous pause: opening the store is synchronous and happens once.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
    }
  }
}

function migrate(db: DatabaseSync, migrations: Migration[]): void {
  db.exec("CREATE TABLE IF NOT EXISTS migrations (id TEXT PRIMARY KEY, applied_ms INTEGER)");
  const applied = new Set(
    db.prepare("SELECT id FROM migrations").all().map((row) => String(row.id)),
  );
  if (migrations.every((m) => applied.has(m.id))) return;
  // The write lock first: of two processes opening a fresh data dir, one migrates.
  transaction(db, () => {
    const done = new Set(
      db.prepare("SELECT id FROM migrations").all().map((row) => String(row.id)),
    );
    const record = db.prepare("INSERT INTO migrations (id, applied_ms) VALUES (?, ?)");
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      db.exec(m.sql);
      record.run(m.id, Date.now());
    }
  });
}

/** Runs `fn` in an immediate (write-locked) transaction, rolling back if it throws. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** Runs synchronous database work as a promise, so errors reject instead of throwing. */
export function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}
