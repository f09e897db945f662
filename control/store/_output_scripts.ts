/**
 * The Lua scripts of calls and their outputs (key layout: `_redis_keys.ts`).
 * @module
 */
import { script, type ScriptDef } from "./_redis_lua.ts";

/**
 * Creates a call unless it exists.
 * KEYS: 1 call hash, 2 calls index.
 * ARGV: 1 callId, 2 nowMs, 3 functionId, 4 appId, 5 createdMs, 6 total ("" if unknown).
 * Result: 1 if created, 0 if it existed.
 */
const createCall = script(
  2,
  `
if redis.call("EXISTS", KEYS[1]) == 1 then return 0 end
redis.call("HSET", KEYS[1], "functionId", ARGV[3], "appId", ARGV[4], "createdMs", ARGV[5], "total", ARGV[6])
redis.call("ZADD", KEYS[2], ARGV[2], ARGV[1])
return 1
`,
);

/**
 * Records how many inputs a call has and wakes its readers; a call whose
 * outputs are all in starts its retention countdown.
 * KEYS: 1 call hash, 2 outputs list.
 * ARGV: 1 total, 2 outputs channel, 3 callId, 4 key prefix, 5 retentionMs.
 * Result: 1 if the call exists, else 0.
 */
const setCallTotal = script(
  2,
  `
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
redis.call("HSET", KEYS[1], "total", ARGV[1])
if redis.call("LLEN", KEYS[2]) >= tonumber(ARGV[1]) then expire_call(ARGV[4], ARGV[3], ARGV[5]) end
redis.call("PUBLISH", ARGV[2], ARGV[3])
return 1
`,
);

/**
 * Forgets calls idle past retention, at most `limit` per run.
 * KEYS: 1 calls index.
 * ARGV: 1 retention cutoff ms, 2 key prefix, 3 limit.
 * Result: the number forgotten.
 */
const forgetIdle = script(
  1,
  `
local old = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", "(" .. ARGV[1], "LIMIT", 0, tonumber(ARGV[3]))
local keys = {}
for _, cid in ipairs(old) do
  keys[#keys + 1] = ARGV[2] .. "call:" .. cid
  keys[#keys + 1] = ARGV[2] .. "out:" .. cid
  keys[#keys + 1] = ARGV[2] .. "done:" .. cid
end
for i = 1, #keys, CHUNK do redis.call("DEL", unpack(keys, i, math.min(i + CHUNK - 1, #keys))) end
chunked("ZREM", KEYS[1], old)
return #old
`,
);

/** The output store's scripts, by the ioredis command name they are defined under. */
export const OUTPUT_SCRIPTS: Record<string, ScriptDef> = {
  nmCreateCall: createCall,
  nmSetCallTotal: setCallTotal,
  nmForgetIdle: forgetIdle,
};
