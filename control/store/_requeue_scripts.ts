/**
 * The Lua scripts that put leased inputs back in the queue: a dead sandbox, a
 * departed worker, an expired lease (key layout: `_redis_keys.ts`).
 * @module
 */
import { script, type ScriptDef } from "./_redis_lua.ts";

/**
 * Requeues inputs whose sandbox died, if the caller still holds them.
 * KEYS: 1 inputs, 2 queue, 3 leases, 4 expiries, 5 depth.
 * ARGV: 1 maxInfraAttempts, 2 inputs channel, then pairs inputId, token.
 * Result: requeued count, then the records of exhausted inputs.
 */
const requeue = script(
  5,
  `
local ids, tokens = {}, {}
for i = 3, #ARGV, 2 do ids[#ids + 1] = ARGV[i]; tokens[#tokens + 1] = ARGV[i + 1] end
local held = hmget(KEYS[3], ids)
local mine, seen = {}, {}
for i, id in ipairs(ids) do
  if held[i] and held[i] ~= "!" and held[i] == tokens[i] and not seen[id] then
    seen[id] = true
    mine[#mine + 1] = id
  end
end
return requeue_ids(mine, tonumber(ARGV[1]), ARGV[2])
`,
);

/**
 * Requeues every lease a worker holds.
 * KEYS: 1 inputs, 2 queue, 3 leases, 4 expiries, 5 depth.
 * ARGV: 1 maxInfraAttempts, 2 inputs channel, 3 workerId.
 * Result: requeued count, then the records of exhausted inputs.
 */
const releaseWorker = script(
  5,
  `
local all = redis.call("HGETALL", KEYS[3])
local mine = {}
for i = 1, #all, 2 do
  if owned_by(all[i + 1], ARGV[3]) then mine[#mine + 1] = all[i] end
end
return requeue_ids(mine, tonumber(ARGV[1]), ARGV[2])
`,
);

/**
 * Requeues expired leases, at most `limit` per run.
 * KEYS: 1 inputs, 2 queue, 3 leases, 4 expiries, 5 depth.
 * ARGV: 1 maxInfraAttempts, 2 inputs channel, 3 nowMs, 4 limit.
 * Result: requeued count, 1 if more work remains else 0, then exhausted records.
 */
const sweep = script(
  5,
  `
local limit = tonumber(ARGV[4])
local expired = redis.call("ZRANGEBYSCORE", KEYS[4], "-inf", ARGV[3], "LIMIT", 0, limit)
local report = requeue_ids(expired, tonumber(ARGV[1]), ARGV[2])
table.insert(report, 2, #expired == limit and 1 or 0)
return report
`,
);

/**
 * Hands back leased inputs that never reached their worker: to the front of
 * the queue in the given order, with no attempt counted, if the caller still
 * holds them.
 * KEYS: 1 inputs, 2 queue, 3 leases, 4 expiries, 5 depth.
 * ARGV: 1 inputs channel, then pairs inputId, token.
 * Result: the number handed back.
 */
const giveBack = script(
  5,
  `
local ids, tokens = {}, {}
for i = 2, #ARGV, 2 do ids[#ids + 1] = ARGV[i]; tokens[#tokens + 1] = ARGV[i + 1] end
local held = hmget(KEYS[3], ids)
local recs = hmget(KEYS[1], ids)
local back, counts, seen = {}, {}, {}
for i, id in ipairs(ids) do
  if recs[i] and held[i] and held[i] ~= "!" and held[i] == tokens[i] and not seen[id] then
    seen[id] = true
    back[#back + 1] = id
    local _, fid = call_and_function(recs[i])
    counts[fid] = (counts[fid] or 0) + 1
  end
end
if #back == 0 then return 0 end
chunked("HDEL", KEYS[3], back)
chunked("ZREM", KEYS[4], back)
local reversed = {}
for i = #back, 1, -1 do reversed[#reversed + 1] = back[i] end
chunked("LPUSH", KEYS[2], reversed)
add_depth(KEYS[5], counts)
redis.call("PUBLISH", ARGV[1], "")
return #back
`,
);

/**
 * Takes or keeps the sweeper role, so that of many control planes sharing one
 * Redis only one sweeps expired leases at a time.
 * KEYS: 1 sweeper lock.
 * ARGV: 1 holder id (one per backend instance), 2 how long the role lasts (ms).
 * Result: 1 if the caller holds the role now, else 0.
 */
const claimSweeper = script(
  1,
  `
local holder = redis.call("GET", KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return 1
`,
);

/** The requeue scripts, by the ioredis command name they are defined under. */
export const REQUEUE_SCRIPTS: Record<string, ScriptDef> = {
  nmRequeue: requeue,
  nmReleaseWorker: releaseWorker,
  nmSweep: sweep,
  nmGiveBack: giveBack,
  nmClaimSweeper: claimSweeper,
};
