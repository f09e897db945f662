/**
 * {@linkcode TickLeases} in the embedded store's SQLite database, so
 * processes sharing a data dir agree on who runs a tick.
 * @module
 */
import type { Clock } from "../../proto/clock.ts";
import type { DatabaseSync } from "./_node_sqlite.d.ts";
import { DEFAULT_TICK_LEASE_MS, type TickLeases } from "./tick_leases.ts";
import { attempt, type Migration, transaction } from "./_sqlite.ts";

/** The table of tick claims: one row per key, its latest claimed tick. */
export const TICK_LEASE_MIGRATIONS: Migration[] = [{
  id: "ticks/1",
  sql: `
    CREATE TABLE tick_leases (
      key TEXT PRIMARY KEY,
      tick_ms INTEGER NOT NULL,
      expires_ms INTEGER NOT NULL
    );
  `,
}];

/** Tick claims in SQLite. */
export class SqliteTickLeases implements TickLeases {
  readonly #db: DatabaseSync;
  readonly #clock: Clock;

  /** Uses `db`, migrated with {@linkcode TICK_LEASE_MIGRATIONS}. */
  constructor(db: DatabaseSync, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  claim(key: string, tickMs: number, ttlMs = DEFAULT_TICK_LEASE_MS): Promise<boolean> {
    const now = this.#clock.now();
    return attempt(() =>
      transaction(this.#db, () => {
        this.#db.prepare("DELETE FROM tick_leases WHERE expires_ms <= ?").run(now);
        const held = this.#db.prepare("SELECT tick_ms FROM tick_leases WHERE key = ?").get(key);
        if (held && Number(held.tick_ms) >= tickMs) return false;
        this.#db.prepare(
          "INSERT OR REPLACE INTO tick_leases (key, tick_ms, expires_ms) VALUES (?, ?, ?)",
        ).run(key, tickMs, now + ttlMs);
        return true;
      })
    );
  }
}
