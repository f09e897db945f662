/**
 * The Lua scripts that queue and lease inputs (key layout: `_redis_keys.ts`).
 * @module
 */
import { script, type ScriptDef } from "./_redis_lua.ts";

/**
 * Queues new inputs in order behind those already queued.
 * KEYS: 1 inputs, 2 queue, 3 depth.
 * ARGV: 1 inputs channel, 2 sender (the message), 3 the input records packed in one argument
 * (`_redis_codec.ts` packInputs; their ids are read off their headers).
 * Result: the number queued (ids already known are skipped).
 */
const enqueue = script(
  3,
  `
local ids, fns, recs = {}, {}, {}
for _, rec in ipairs(unpack_records(ARGV[3])) do
  local id, _, fid = input_ids(rec)
  ids[#ids + 1] = id; fns[#fns + 1] = fid; recs[#recs + 1] = rec
end
local known = hmget(KEYS[1], ids)
local fields, queue, counts, seen = {}, {}, {}, {}
for i, id in ipairs(ids) do
  if not known[i] and not seen[id] then
    seen[id] = true
    fields[#fields + 1] = id
    fields[#fields + 1] = recs[i]
    queue[#queue + 1] = id
    counts[fns[i]] = (counts[fns[i]] or 0) + 1
  end
end
if #queue > 0 then
  chunked("HSET", KEYS[1], fields)
  chunked("RPUSH", KEYS[2], queue)
  add_depth(KEYS[3], counts)
  redis.call("PUBLISH", ARGV[1], ARGV[2])
end
return #queue
`,
);

/**
 * Leases up to `max` queued inputs, oldest first.
 * KEYS: 1 inputs, 2 queue, 3 leases, 4 expiries, 5 depth.
 * ARGV: 1 max, 2 expiresMs, 3 token prefix `<workerId>:<nonce>.`.
 * Result: the records leased, in queue order; the k-th (from 1) is leased under the token
 * prefix .. k (the caller makes the tokens: a reply of half as many values).
 */
const lease = script(
  5,
  `
local max = tonumber(ARGV[1])
local out, tokens, expiries, counts, taken = {}, {}, {}, {}, {}
local n = 0
while n < max do
  local want = max - n
  local ids = redis.call("LPOP", KEYS[2], want)
  if not ids then break end
  local recs = hmget(KEYS[1], ids)
  local held = hmget(KEYS[3], ids)
  for i, id in ipairs(ids) do
    -- Stale entries (input finished or dropped while queued) are skipped.
    if recs[i] and not held[i] and not taken[id] then
      taken[id] = true
      n = n + 1
      local token = ARGV[3] .. n
      tokens[#tokens + 1] = id
      tokens[#tokens + 1] = token
      expiries[#expiries + 1] = ARGV[2]
      expiries[#expiries + 1] = id
      local _, fid = call_and_function(recs[i])
      counts[fid] = (counts[fid] or 0) - 1
      out[#out + 1] = recs[i]
    end
  end
  if #ids < want then break end
end
chunked("HSET", KEYS[3], tokens)
chunked("ZADD", KEYS[4], expiries)
add_depth(KEYS[5], counts)
return out
`,
);

/**
 * Extends the leases a worker holds.
 * KEYS: 1 leases, 2 expiries.
 * ARGV: 1 workerId, 2 expiresMs, then inputIds.
 * Result: the input ids the worker no longer holds.
 */
const renew = script(
  2,
  `
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
local held = hmget(KEYS[1], ids)
local lost, expiries = {}, {}
for i, id in ipairs(ids) do
  if owned_by(held[i], ARGV[1]) then
    expiries[#expiries + 1] = ARGV[2]
    expiries[#expiries + 1] = id
  else
    lost[#lost + 1] = id
  end
end
chunked("ZADD", KEYS[2], expiries)
return lost
`,
);

/**
 * Drops the queued (not leased) inputs of some functions, as when their app
 * stops; leased ones run to the end. Rewrites the queue, which also clears
 * stale entries: O(queue length), acceptable for a rare operation.
 * KEYS: 1 inputs, 2 queue, 3 leases, 4 depth.
 * ARGV: functionIds.
 * Result: the number of inputs dropped.
 */
const dropQueued = script(
  4,
  `
local fns = {}
for _, fid in ipairs(ARGV) do fns[fid] = true end
local ids = redis.call("LRANGE", KEYS[2], 0, -1)
local recs = hmget(KEYS[1], ids)
local held = hmget(KEYS[3], ids)
local keep, drop, counts, seen = {}, {}, {}, {}
for i, id in ipairs(ids) do
  if recs[i] and not held[i] and not seen[id] then
    seen[id] = true
    local _, fid = call_and_function(recs[i])
    if fns[fid] then
      drop[#drop + 1] = id
      counts[fid] = (counts[fid] or 0) - 1
    else
      keep[#keep + 1] = id
    end
  end
end
if #keep < #ids then
  redis.call("DEL", KEYS[2])
  chunked("RPUSH", KEYS[2], keep)
end
chunked("HDEL", KEYS[1], drop)
add_depth(KEYS[4], counts)
return #drop
`,
);

/** The queue's scripts, by the ioredis command name they are defined under. */
export const QUEUE_SCRIPTS: Record<string, ScriptDef> = {
  nmEnqueue: enqueue,
  nmLease: lease,
  nmRenew: renew,
  nmDropQueued: dropQueued,
};
