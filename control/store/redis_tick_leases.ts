/**
 * {@linkcode TickLeases} in Redis, shared by every control plane on it.
 *
 * Keys (under the prefix): `tick:<key>`, a string `<tickMs> <expiresMs>`
 * with a Redis expiry of the lease length, so keys of deleted functions go.
 * @module
 */
import type { RedisContext } from "./_redis_context.ts";
import { DEFAULT_TICK_LEASE_MS, type TickLeases } from "./tick_leases.ts";

/**
 * Claims a tick unless this or a later tick of the key is claimed.
 * KEYS[1] the key's claim.
 * ARGV tickMs, nowMs (the store's clock), expiresMs, ttlMs.
 * Returns 1 if claimed, 0 if not.
 */
const CLAIM_TICK = `
local held = redis.call('GET', KEYS[1])
if held then
  local tick, expires = string.match(held, '^(%S+) (%S+)$')
  if tonumber(expires) > tonumber(ARGV[2]) and tonumber(tick) >= tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[3], 'PX', ARGV[4])
return 1`;

/** Tick claims in Redis. */
export class RedisTickLeases implements TickLeases {
  readonly #ctx: RedisContext;

  /** Uses the context's connection. */
  constructor(ctx: RedisContext) {
    ctx.define({ nmClaimTick: { numberOfKeys: 1, lua: CLAIM_TICK } });
    this.#ctx = ctx;
  }

  async claim(key: string, tickMs: number, ttlMs = DEFAULT_TICK_LEASE_MS): Promise<boolean> {
    const now = this.#ctx.clock.now();
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const claimed = await this.#ctx.script<number>(
      "nmClaimTick",
      this.#ctx.key("tick:", key),
      tickMs,
      now,
      now + ttl,
      ttl,
    );
    return claimed === 1;
  }
}
