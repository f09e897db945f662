// The subset of `node:sqlite` the embedded store uses. Deno ships the module,
// but the @types/node that an npm dependency (dockerode) pulls into the type
// graph predates it, so its types are declared here.

/** A value SQLite stores or returns. */
export type SqlValue = null | number | bigint | string | Uint8Array;

/** The outcome of a write. */
export interface StatementResultingChanges {
  changes: number | bigint;
  lastInsertRowid: number | bigint;
}

/** A prepared statement. */
export interface StatementSync {
  run(...params: SqlValue[]): StatementResultingChanges;
  get(...params: SqlValue[]): Record<string, SqlValue> | undefined;
  all(...params: SqlValue[]): Record<string, SqlValue>[];
}

/** A synchronous connection to one database file. */
export class DatabaseSync {
  constructor(path: string);
  exec(sql: string): void;
  prepare(sql: string): StatementSync;
  close(): void;
}
