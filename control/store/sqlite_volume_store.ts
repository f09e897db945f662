/**
 * {@linkcode VolumeStore} in the embedded store: volume trees in SQLite (a
 * commit is one transaction, so readers in this or another process see all
 * of it or none), content chunks as content-addressed files beside the
 * bundles (`<dataDir>/blobs/`).
 * @module
 */
import type { DatabaseSync, SqlValue } from "./_node_sqlite.d.ts";
import type { BlobStore } from "./blob_store.ts";
import type {
  CommitResult,
  VolumeChangeRecord,
  VolumeFile,
  VolumeLimits,
  VolumeStore,
  VolumeSummary,
} from "./volume_store.ts";
import { attempt, type Migration, transaction } from "./_sqlite.ts";

/** The tables of volumes and their files. */
export const VOLUME_MIGRATIONS: Migration[] = [{
  id: "volumes/1",
  sql: `
    CREATE TABLE volumes (
      name TEXT PRIMARY KEY,
      created_ms INTEGER NOT NULL,
      version INTEGER NOT NULL,
      files INTEGER NOT NULL,
      bytes INTEGER NOT NULL
    );
    CREATE TABLE volume_files (
      volume TEXT NOT NULL,
      path TEXT NOT NULL,
      size INTEGER NOT NULL,
      chunks TEXT NOT NULL,
      mtime_ms INTEGER NOT NULL,
      PRIMARY KEY (volume, path)
    );
  `,
}];

type Row = Record<string, SqlValue>;

function summary(row: Row): VolumeSummary {
  return {
    name: String(row.name),
    createdMs: Number(row.created_ms),
    version: Number(row.version),
    files: Number(row.files),
    bytes: Number(row.bytes),
  };
}

/** A commit that would break a limit: thrown inside the transaction to roll it back. */
class Full {
  constructor(readonly files: number, readonly bytes: number) {}
}

/** Volume trees in SQLite, chunks in a blob store. */
export class SqliteVolumeStore implements VolumeStore {
  #db: DatabaseSync;
  #chunks: BlobStore;

  /** Uses `db` (migrated with {@linkcode VOLUME_MIGRATIONS}) and keeps chunks in `chunks`. */
  constructor(db: DatabaseSync, chunks: BlobStore) {
    this.#db = db;
    this.#chunks = chunks;
  }

  createVolume(name: string, createdMs: number): Promise<boolean> {
    return attempt(() =>
      Number(
        this.#db.prepare(
          "INSERT OR IGNORE INTO volumes (name, created_ms, version, files, bytes) VALUES (?, ?, 0, 0, 0)",
        ).run(name, createdMs).changes,
      ) > 0
    );
  }

  getVolume(name: string): Promise<VolumeSummary | undefined> {
    return attempt(() => {
      const row = this.#db.prepare("SELECT * FROM volumes WHERE name = ?").get(name);
      return row ? summary(row) : undefined;
    });
  }

  listVolumes(): Promise<VolumeSummary[]> {
    return attempt(() =>
      this.#db.prepare("SELECT * FROM volumes ORDER BY name").all().map(summary)
    );
  }

  deleteVolume(name: string): Promise<boolean> {
    return attempt(() =>
      transaction(this.#db, () => {
        this.#db.prepare("DELETE FROM volume_files WHERE volume = ?").run(name);
        return Number(this.#db.prepare("DELETE FROM volumes WHERE name = ?").run(name).changes) >
          0;
      })
    );
  }

  readTree(name: string): Promise<{ version: number; files: VolumeFile[] } | undefined> {
    return attempt(() =>
      // One read transaction: the version and the files of one instant.
      transaction(this.#db, () => {
        const vol = this.#db.prepare("SELECT version FROM volumes WHERE name = ?").get(name);
        if (!vol) return undefined;
        const files = this.#db.prepare(
          "SELECT path, size, chunks, mtime_ms FROM volume_files WHERE volume = ?",
        ).all(name).map((r): VolumeFile => ({
          path: String(r.path),
          size: Number(r.size),
          chunks: String(r.chunks) ? String(r.chunks).split(",") : [],
          mtimeMs: Number(r.mtime_ms),
        }));
        return { version: Number(vol.version), files };
      })
    );
  }

  commit(name: string, changes: VolumeChangeRecord[], limits: VolumeLimits): Promise<CommitResult> {
    return attempt((): CommitResult => {
      try {
        return transaction(this.#db, () => {
          if (!this.#db.prepare("SELECT 1 FROM volumes WHERE name = ?").get(name)) {
            return { ok: false, reason: "missing" } as const;
          }
          const put = this.#db.prepare(
            `INSERT OR REPLACE INTO volume_files (volume, path, size, chunks, mtime_ms)
             VALUES (?, ?, ?, ?, ?)`,
          );
          const remove = this.#db.prepare(
            `DELETE FROM volume_files WHERE volume = ?
               AND (? = '' OR path = ? OR substr(path, 1, length(?) + 1) = ? || '/')`,
          );
          for (const c of changes) {
            if (c.file) {
              put.run(name, c.path, c.file.size, c.file.chunks.join(","), c.file.mtimeMs);
            } else remove.run(name, c.path, c.path, c.path, c.path);
          }
          const totals = this.#db.prepare(
            "SELECT count(*) AS files, coalesce(sum(size), 0) AS bytes FROM volume_files WHERE volume = ?",
          ).get(name)!;
          const files = Number(totals.files);
          const bytes = Number(totals.bytes);
          if (bytes > limits.maxBytes || files > limits.maxFiles) throw new Full(files, bytes);
          this.#db.prepare(
            "UPDATE volumes SET version = version + 1, files = ?, bytes = ? WHERE name = ?",
          ).run(files, bytes, name);
          const row = this.#db.prepare("SELECT version FROM volumes WHERE name = ?").get(name)!;
          return { ok: true, version: Number(row.version) } as const;
        });
      } catch (error) {
        if (error instanceof Full) {
          return { ok: false, reason: "full", files: error.files, bytes: error.bytes };
        }
        throw error;
      }
    });
  }

  async missingChunks(hashes: string[]): Promise<string[]> {
    const present = await Promise.all(hashes.map((h) => this.#chunks.has(h)));
    return hashes.filter((_, i) => !present[i]);
  }

  putChunk(hash: string, data: Uint8Array): Promise<void> {
    return this.#chunks.put(hash, data);
  }

  getChunk(hash: string): Promise<Uint8Array | undefined> {
    return this.#chunks.get(hash);
  }
}
