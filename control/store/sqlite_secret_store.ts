/**
 * {@linkcode SecretStore} in the embedded store's SQLite database, so secrets
 * created with the CLI are there for the next `serve` or `run` on the same
 * data dir. Rows hold only sealed values.
 * @module
 */
import type { DatabaseSync, SqlValue } from "./_node_sqlite.d.ts";
import type { SecretRecord, SecretStore, SecretSummary } from "./secret_store.ts";
import { attempt, type Migration, transaction } from "./_sqlite.ts";

/** The table of secrets. */
export const SECRET_MIGRATIONS: Migration[] = [{
  id: "secrets/1",
  sql: `
    CREATE TABLE secrets (
      name TEXT PRIMARY KEY,
      keys TEXT NOT NULL,
      sealed BLOB NOT NULL,
      created_ms INTEGER NOT NULL,
      updated_ms INTEGER NOT NULL
    );
  `,
}];

type Row = Record<string, SqlValue>;

function summary(row: Row): SecretSummary {
  return {
    name: String(row.name),
    keys: JSON.parse(String(row.keys)),
    createdMs: Number(row.created_ms),
    updatedMs: Number(row.updated_ms),
  };
}

/** Secrets in SQLite. */
export class SqliteSecretStore implements SecretStore {
  #db: DatabaseSync;

  /** Uses `db`, migrated with {@linkcode SECRET_MIGRATIONS}. */
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  putSecret(record: SecretRecord, replace: boolean): Promise<boolean> {
    return attempt(() =>
      transaction(this.#db, () => {
        const old = this.#db.prepare("SELECT created_ms FROM secrets WHERE name = ?").get(
          record.name,
        );
        if (old && !replace) return false;
        this.#db.prepare(
          `INSERT OR REPLACE INTO secrets (name, keys, sealed, created_ms, updated_ms)
           VALUES (?, ?, ?, ?, ?)`,
        ).run(
          record.name,
          JSON.stringify(record.keys),
          record.sealed,
          old ? Number(old.created_ms) : record.createdMs,
          record.updatedMs,
        );
        return true;
      })
    );
  }

  getSecret(name: string): Promise<SecretRecord | undefined> {
    return attempt(() => {
      const row = this.#db.prepare("SELECT * FROM secrets WHERE name = ?").get(name);
      if (!row) return undefined;
      return { ...summary(row), sealed: new Uint8Array(row.sealed as Uint8Array) };
    });
  }

  listSecrets(): Promise<SecretSummary[]> {
    return attempt(() =>
      this.#db.prepare("SELECT name, keys, created_ms, updated_ms FROM secrets ORDER BY name")
        .all().map(summary)
    );
  }

  deleteSecret(name: string): Promise<boolean> {
    return attempt(() =>
      Number(this.#db.prepare("DELETE FROM secrets WHERE name = ?").run(name).changes) > 0
    );
  }
}
