/**
 * {@linkcode DeploymentStore} of the embedded store: deployed names, their
 * versions and their kept logs in SQLite, so they survive a restart of the
 * control plane. Heartbeats of ephemeral apps and call depths belong to the
 * running processes (like the embedded queue), so they stay in memory.
 * @module
 */
import type { DatabaseSync, SqlValue } from "./_node_sqlite.d.ts";
import type { Clock } from "../../proto/clock.ts";
import type {
  Deployment,
  DeploymentStore,
  DeploymentVersion,
  NextVersion,
} from "./deployment_store.ts";
import { MemoryDeploymentStore } from "./memory_deployment_store.ts";
import { attempt, type Migration, transaction } from "./_sqlite.ts";

/** The tables of deployed names, versions and kept log lines. */
export const DEPLOYMENT_MIGRATIONS: Migration[] = [{
  id: "deployments/1",
  sql: `
    CREATE TABLE deployments (
      name TEXT PRIMARY KEY,
      version INTEGER NOT NULL,
      app_id TEXT NOT NULL,
      stopped INTEGER NOT NULL,
      created_ms INTEGER NOT NULL,
      updated_ms INTEGER NOT NULL
    );
    CREATE TABLE deployment_versions (
      name TEXT NOT NULL,
      version INTEGER NOT NULL,
      app_id TEXT NOT NULL,
      created_ms INTEGER NOT NULL,
      rollback_of INTEGER NOT NULL,
      PRIMARY KEY (name, version)
    );
    CREATE TABLE deployment_logs (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL,
      line BLOB NOT NULL
    );
    CREATE INDEX deployment_logs_by_name ON deployment_logs (name, id);
  `,
}];

type Row = Record<string, SqlValue>;

function toDeployment(row: Row): Deployment {
  return {
    name: String(row.name),
    version: Number(row.version),
    appId: String(row.app_id),
    stopped: row.stopped === 1,
    createdMs: Number(row.created_ms),
    updatedMs: Number(row.updated_ms),
  };
}

/** Deployments in SQLite; heartbeats and call depths in this process's memory. */
export class SqliteDeploymentStore implements DeploymentStore {
  #db: DatabaseSync;
  #live: MemoryDeploymentStore;

  /** Uses `db` (migrated with {@linkcode DEPLOYMENT_MIGRATIONS}); times call depths on `clock`. */
  constructor(db: DatabaseSync, clock: Clock) {
    this.#db = db;
    this.#live = new MemoryDeploymentStore(clock);
  }

  recordVersion(name: string, next: NextVersion): Promise<DeploymentVersion> {
    const { appId, nowMs, rollbackOf = 0 } = next;
    return attempt(() =>
      transaction(this.#db, () => {
        const row = this.#db.prepare(
          "SELECT version, created_ms FROM deployments WHERE name = ?",
        ).get(name);
        const version = Number(row?.version ?? 0) + 1;
        const createdMs = row ? Number(row.created_ms) : nowMs;
        this.#db.prepare(
          `INSERT OR REPLACE INTO deployments (name, version, app_id, stopped, created_ms, updated_ms)
           VALUES (?, ?, ?, 0, ?, ?)`,
        ).run(name, version, appId, createdMs, nowMs);
        this.#db.prepare(
          `INSERT INTO deployment_versions (name, version, app_id, created_ms, rollback_of)
           VALUES (?, ?, ?, ?, ?)`,
        ).run(name, version, appId, nowMs, rollbackOf);
        return { version, appId, createdMs: nowMs, rollbackOf };
      })
    );
  }

  getDeployment(name: string): Promise<Deployment | undefined> {
    return attempt(() => {
      const row = this.#db.prepare("SELECT * FROM deployments WHERE name = ?").get(name);
      return row ? toDeployment(row) : undefined;
    });
  }

  listDeployments(): Promise<Deployment[]> {
    return attempt(() =>
      this.#db.prepare("SELECT * FROM deployments ORDER BY name").all().map(toDeployment)
    );
  }

  versions(name: string): Promise<DeploymentVersion[]> {
    return attempt(() =>
      this.#db.prepare(
        "SELECT * FROM deployment_versions WHERE name = ? ORDER BY version",
      ).all(name).map((row) => ({
        version: Number(row.version),
        appId: String(row.app_id),
        createdMs: Number(row.created_ms),
        rollbackOf: Number(row.rollback_of),
      }))
    );
  }

  stopDeployment(name: string): Promise<boolean> {
    return attempt(() =>
      Number(
        this.#db.prepare("UPDATE deployments SET stopped = 1 WHERE name = ?").run(name).changes,
      ) > 0
    );
  }

  touchApp(appId: string, nowMs: number): Promise<void> {
    return this.#live.touchApp(appId, nowMs);
  }

  staleApps(beforeMs: number): Promise<string[]> {
    return this.#live.staleApps(beforeMs);
  }

  forgetApp(appId: string): Promise<void> {
    return this.#live.forgetApp(appId);
  }

  setCallDepth(callId: string, depth: number, ttlMs: number): Promise<void> {
    return this.#live.setCallDepth(callId, depth, ttlMs);
  }

  callDepth(callId: string): Promise<number> {
    return this.#live.callDepth(callId);
  }

  appendLogs(name: string, lines: Uint8Array[], keep: number): Promise<void> {
    if (!lines.length) return Promise.resolve();
    return attempt(() =>
      transaction(this.#db, () => {
        const put = this.#db.prepare("INSERT INTO deployment_logs (name, line) VALUES (?, ?)");
        for (const line of lines) put.run(name, line);
        this.#db.prepare(
          `DELETE FROM deployment_logs WHERE name = ? AND id <= (
             SELECT id FROM deployment_logs WHERE name = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
        ).run(name, name, keep);
      })
    );
  }

  recentLogs(name: string, max: number): Promise<Uint8Array[]> {
    if (max <= 0) return Promise.resolve([]);
    return attempt(() =>
      this.#db.prepare(
        "SELECT line FROM deployment_logs WHERE name = ? ORDER BY id DESC LIMIT ?",
      ).all(name, max).map((row) => new Uint8Array(row.line as Uint8Array)).reverse()
    );
  }
}
