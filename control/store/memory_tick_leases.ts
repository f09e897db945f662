/**
 * {@linkcode TickLeases} in this process's memory: right for the stores
 * whose control plane is the only one.
 * @module
 */
import type { Clock } from "../../proto/clock.ts";
import { DEFAULT_TICK_LEASE_MS, type TickLeases } from "./tick_leases.ts";

/** Tick claims in memory. */
export class MemoryTickLeases implements TickLeases {
  readonly #clock: Clock;
  /** key -> the latest claimed tick and when its claim ends. */
  readonly #claims = new Map<string, { tickMs: number; expiresMs: number }>();

  /** Reads time from `clock`. */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  claim(key: string, tickMs: number, ttlMs = DEFAULT_TICK_LEASE_MS): Promise<boolean> {
    const now = this.#clock.now();
    for (const [k, c] of this.#claims) if (c.expiresMs <= now) this.#claims.delete(k);
    const held = this.#claims.get(key);
    if (held && held.tickMs >= tickMs) return Promise.resolve(false);
    this.#claims.set(key, { tickMs, expiresMs: now + ttlMs });
    return Promise.resolve(true);
  }
}
