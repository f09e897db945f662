/**
 * Leases on ticks: which control plane runs a scheduled function's tick.
 * Several control planes on one store each see every tick; the one whose
 * claim wins starts the run, the others skip it.
 * @module
 */

/** How long a claim is remembered by default: a day. */
export const DEFAULT_TICK_LEASE_MS = 86_400_000;

/** Claims on ticks. All methods are safe to call concurrently, from many processes. */
export interface TickLeases {
  /**
   * Claims `tickMs` of `key` (a scheduled function's id). Resolves `true` for
   * exactly one caller per (key, tick) across every control plane on the
   * store, and `false` for a tick at or before the latest one claimed for
   * `key`, so an old tick never runs after a newer one. A key whose latest
   * claim is older than `ttlMs` (by the store's clock) is forgotten.
   */
  claim(key: string, tickMs: number, ttlMs?: number): Promise<boolean>;
}
