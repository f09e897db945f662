/**
 * The Lua scripts behind {@linkcode RedisBackend}: every state change that must
 * be atomic is one script, called with EVALSHA through ioredis `defineCommand`.
 *
 * Key layout (`P` is the key prefix, `nm:` by default):
 * - `P in`     hash   inputId -> input record (queued, leased or exhausted)
 * - `P q`      list   queued inputIds in FIFO order; may hold stale ids of
 *                     inputs finished while queued, which `lease` skips
 * - `P lease`  hash   inputId -> lease token `<workerId>:<nonce>.<n>`, or `!`
 *                     for an input past its infrastructure retry budget
 * - `P exp`    zset   leased inputId -> expiry (ms, from the injected clock)
 * - `P depth`  hash   functionId -> number of queued inputs
 * - `P calls`  zset   callId -> time of its last output (retention index)
 * - `P call:<id>` hash, `P out:<id>` list of output records, `P done:<id>`
 *   bitmap of finished output indexes (exactly-once outputs)
 * - `P apps` hash, `P stopped` set, `P fns` hash, `P workers` hash,
 *   `P logseq` hash appId -> sequence number of the latest log batch
 *
 * Records are `<json header>\n<bytes>` (see `_redis_codec.ts`); an input
 * header is `[inputId, callId, functionId, idx, infraAttempt]`.
 *
 * Every loop over inputs feeds multi-element commands (HMGET, HSET, RPUSH,
 * ZADD, LPOP count) so a batch of N inputs costs a handful of commands, not N.
 * @module
 */

/** Helpers shared by all scripts (Lua locals; unused ones cost nothing). */
const PRELUDE = `
-- Redis's Lua cannot unpack more than ~8000 values, so long lists go in chunks.
local CHUNK = 4000
local function chunked(cmd, key, args)
  for i = 1, #args, CHUNK do
    redis.call(cmd, key, unpack(args, i, math.min(i + CHUNK - 1, #args)))
  end
end
-- Concatenates array replies; for an integer reply (RPUSH) returns the last one.
local function chunked_collect(cmd, key, args)
  local out = {}
  for i = 1, #args, CHUNK do
    local part = redis.call(cmd, key, unpack(args, i, math.min(i + CHUNK - 1, #args)))
    if type(part) ~= "table" then out = part else
      for j = 1, #part do out[#out + 1] = part[j] end
    end
  end
  return out
end
-- A finished call's keys expire on their own even if no sweeper ever runs.
local function expire_call(P, cid, ttl)
  redis.call("PEXPIRE", P .. "call:" .. cid, ttl)
  redis.call("PEXPIRE", P .. "out:" .. cid, ttl)
  redis.call("PEXPIRE", P .. "done:" .. cid, ttl)
end
local function hmget(key, fields) return chunked_collect("HMGET", key, fields) end
local function parse(rec)
  local nl = string.find(rec, "\\n", 1, true)
  return cjson.decode(string.sub(rec, 1, nl - 1)), string.sub(rec, nl)
end
-- The call and function ids of an input record, read off its header without
-- decoding it (decoding a JSON header per input dominated lease and complete).
local function call_and_function(rec)
  local cid, fid = string.match(rec, '^%["[^"]*","([^"]*)","([^"]*)"')
  if cid then return cid, fid end
  local h = parse(rec)
  return h[2], h[3]
end
-- A token belongs to a worker if it is "<workerId>:<nonce>" with no ":" in the nonce.
local function owned_by(token, worker)
  return token and string.sub(token, 1, #worker + 1) == worker .. ":"
    and not string.find(token, ":", #worker + 2, true)
end
local function add_depth(key, counts)
  for fn, n in pairs(counts) do
    if n ~= 0 and redis.call("HINCRBY", key, fn, n) <= 0 then redis.call("HDEL", key, fn) end
  end
end
-- Ends the leases on ids: back in the queue with infraAttempt + 1, or marked
-- exhausted ("!") past max. KEYS 1-5 are inputs, queue, leases, expiries, depth.
-- Returns { requeued, exhausted records... }.
local function requeue_ids(ids, max, channel)
  local recs = hmget(KEYS[1], ids)
  local fields, queued, unleased, marks, counts, result = {}, {}, {}, {}, {}, { 0 }
  for i, id in ipairs(ids) do
    if not recs[i] then
      unleased[#unleased + 1] = id -- a lease without an input: just drop it
    else
      local h, rest = parse(recs[i])
      h[5] = h[5] + 1
      local rec = cjson.encode(h) .. rest
      fields[#fields + 1] = id
      fields[#fields + 1] = rec
      if h[5] > max then
        marks[#marks + 1] = id
        marks[#marks + 1] = "!"
        result[#result + 1] = rec
      else
        queued[#queued + 1] = id
        unleased[#unleased + 1] = id
        counts[h[3]] = (counts[h[3]] or 0) + 1
      end
    end
  end
  chunked("HSET", KEYS[1], fields)
  chunked("HSET", KEYS[3], marks)
  chunked("HDEL", KEYS[3], unleased)
  chunked("ZREM", KEYS[4], ids)
  if #queued > 0 then
    chunked("RPUSH", KEYS[2], queued)
    add_depth(KEYS[5], counts)
    redis.call("PUBLISH", channel, "")
  end
  result[1] = #queued
  return result
end
`;

/** A script and how many of its arguments are keys. */
export interface ScriptDef {
  numberOfKeys: number;
  lua: string;
}

function script(numberOfKeys: number, body: string): ScriptDef {
  return { numberOfKeys, lua: PRELUDE + body };
}

/**
 * Queues new inputs in order behind those already queued.
 * KEYS: 1 inputs, 2 queue, 3 depth.
 * ARGV: 1 inputs channel; then per input: inputId, functionId, record.
 * Result: the number queued (ids already known are skipped).
 */
const enqueue = script(
  3,
  `
local ids, fns, recs = {}, {}, {}
for i = 2, #ARGV, 3 do
  ids[#ids + 1] = ARGV[i]; fns[#fns + 1] = ARGV[i + 1]; recs[#recs + 1] = ARGV[i + 2]
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
  redis.call("PUBLISH", ARGV[1], "")
end
return #queue
`,
);

/**
 * Leases up to `max` queued inputs, oldest first.
 * KEYS: 1 inputs, 2 queue, 3 leases, 4 expiries, 5 depth.
 * ARGV: 1 max, 2 expiresMs, 3 token prefix `<workerId>:<nonce>.`.
 * Result: token1, record1, token2, record2, ... in queue order.
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
      out[#out + 1] = token
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
 * Records outputs. A completion is accepted if its input is unfinished, its
 * token is current (or it is a control-plane completion), its call exists and
 * its output index was not recorded before. The input finishes either way once
 * the token matches. A call whose outputs reach its total gets its keys
 * expired after retentionMs (the sweep also forgets calls idle that long).
 * KEYS: 1 inputs, 2 leases, 3 expiries, 4 depth, 5 calls index.
 * ARGV: 1 key prefix, 2 nowMs, 3 retentionMs, 4 outputs channel; then per
 *       completion: inputId, token ("" for the control plane, else "=" .. token),
 *       output index, output record.
 * Result: 1 (accepted) or 0 per completion.
 */
const complete = script(
  5,
  `
local P = ARGV[1]
local ids = {}
for i = 5, #ARGV, 4 do ids[#ids + 1] = ARGV[i] end
local recs = hmget(KEYS[1], ids)
local held = hmget(KEYS[2], ids)
local result, finished, fin, unleased, expiring = {}, {}, {}, {}, {}
local counts, groups, call_ids = {}, {}, {}
for i, id in ipairs(ids) do
  result[i] = 0
  local token = ARGV[4 * i + 2]
  local ok = token == "" or (held[i] and held[i] ~= "!" and held[i] == string.sub(token, 2))
  if recs[i] and not finished[id] and ok then
    finished[id] = true
    fin[#fin + 1] = id
    local cid, fid = call_and_function(recs[i])
    if not held[i] then
      counts[fid] = (counts[fid] or 0) - 1 -- it was still queued
    else
      unleased[#unleased + 1] = id
      if held[i] ~= "!" then expiring[#expiring + 1] = id end
    end
    if not groups[cid] then groups[cid] = {}; call_ids[#call_ids + 1] = cid end
    table.insert(groups[cid], i)
  end
end
chunked("HDEL", KEYS[1], fin)
chunked("HDEL", KEYS[2], unleased)
chunked("ZREM", KEYS[3], expiring)
add_depth(KEYS[4], counts)
local touched = {}
for _, cid in ipairs(call_ids) do
  local call_key, out_key, done_key = P .. "call:" .. cid, P .. "out:" .. cid, P .. "done:" .. cid
  local total = redis.call("HGET", call_key, "total") -- false: no such call
  if total then
    local ops = {}
    for _, i in ipairs(groups[cid]) do
      ops[#ops + 1] = "SET"; ops[#ops + 1] = "u1"; ops[#ops + 1] = ARGV[4 * i + 3]; ops[#ops + 1] = "1"
    end
    local was = chunked_collect("BITFIELD", done_key, ops)
    local outputs = {}
    for j, i in ipairs(groups[cid]) do
      if was[j] == 0 then
        result[i] = 1
        outputs[#outputs + 1] = ARGV[4 * i + 4]
      end
    end
    if #outputs > 0 then
      local length = chunked_collect("RPUSH", out_key, outputs)
      touched[#touched + 1] = ARGV[2]
      touched[#touched + 1] = cid
      if total ~= "" and length >= tonumber(total) then expire_call(P, cid, ARGV[3]) end
    end
  end
end
if #touched > 0 then
  chunked("ZADD", KEYS[5], touched)
  local names = {}
  for i = 2, #touched, 2 do names[#names + 1] = touched[i] end
  redis.call("PUBLISH", ARGV[4], table.concat(names, "\\n"))
end
return result
`,
);

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
 * Requeues expired leases and forgets calls idle past retention, at most
 * `limit` of each per run.
 * KEYS: 1 inputs, 2 queue, 3 leases, 4 expiries, 5 depth, 6 calls index.
 * ARGV: 1 maxInfraAttempts, 2 inputs channel, 3 nowMs, 4 retention cutoff ms,
 *       5 key prefix, 6 limit.
 * Result: requeued count, 1 if more work remains else 0, then exhausted records.
 */
const sweep = script(
  6,
  `
local limit = tonumber(ARGV[6])
local expired = redis.call("ZRANGEBYSCORE", KEYS[4], "-inf", ARGV[3], "LIMIT", 0, limit)
local report = requeue_ids(expired, tonumber(ARGV[1]), ARGV[2])
local old = redis.call("ZRANGEBYSCORE", KEYS[6], "-inf", "(" .. ARGV[4], "LIMIT", 0, limit)
local keys = {}
for _, cid in ipairs(old) do
  keys[#keys + 1] = ARGV[5] .. "call:" .. cid
  keys[#keys + 1] = ARGV[5] .. "out:" .. cid
  keys[#keys + 1] = ARGV[5] .. "done:" .. cid
end
for i = 1, #keys, CHUNK do redis.call("DEL", unpack(keys, i, math.min(i + CHUNK - 1, #keys))) end
chunked("ZREM", KEYS[6], old)
local more = (#expired == limit or #old == limit) and 1 or 0
table.insert(report, 2, more)
return report
`,
);

/**
 * Stores an app and its functions.
 * KEYS: 1 apps, 2 stopped set, 3 functions.
 * ARGV: 1 appId, 2 app JSON, 3 "1" if stopped else "0", then pairs functionId, record.
 * Result: nil.
 */
const putApp = script(
  3,
  `
redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == "1" then redis.call("SADD", KEYS[2], ARGV[1]) else redis.call("SREM", KEYS[2], ARGV[1]) end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
chunked("HSET", KEYS[3], fields)
return false
`,
);

/**
 * Marks an app stopped and drops its queued inputs (leased ones run to the
 * end). Rewrites the queue, which also clears stale entries: O(queue length),
 * acceptable for a rare operation.
 * KEYS: 1 apps, 2 stopped set, 3 inputs, 4 queue, 5 leases, 6 depth.
 * ARGV: 1 appId.
 * Result: the number of inputs dropped, or -1 if the app is unknown.
 */
const stopApp = script(
  6,
  `
local raw = redis.call("HGET", KEYS[1], ARGV[1])
if not raw then return -1 end
redis.call("SADD", KEYS[2], ARGV[1])
local fns = {}
for _, fid in pairs(cjson.decode(raw).functionIds) do fns[fid] = true end
local ids = redis.call("LRANGE", KEYS[4], 0, -1)
local recs = hmget(KEYS[3], ids)
local held = hmget(KEYS[5], ids)
local keep, drop, counts, seen = {}, {}, {}, {}
for i, id in ipairs(ids) do
  if recs[i] and not held[i] and not seen[id] then
    seen[id] = true
    local h = parse(recs[i])
    if fns[h[3]] then
      drop[#drop + 1] = id
      counts[h[3]] = (counts[h[3]] or 0) - 1
    else
      keep[#keep + 1] = id
    end
  end
end
if #keep < #ids then
  redis.call("DEL", KEYS[4])
  chunked("RPUSH", KEYS[4], keep)
end
chunked("HDEL", KEYS[3], drop)
add_depth(KEYS[6], counts)
return #drop
`,
);

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
 * Numbers a batch of log lines and sends it to the app's subscribers.
 * KEYS: 1 log sequence hash (appId -> latest sequence number).
 * ARGV: 1 appId, 2 logs channel, 3 data.
 * Result: the batch's sequence number; the message is `<seq>\n<data>`.
 */
const publishLogs = script(
  1,
  `
local seq = redis.call("HINCRBY", KEYS[1], ARGV[1], 1)
redis.call("PUBLISH", ARGV[2], seq .. "\\n" .. ARGV[3])
return seq
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

/** Every script, by the ioredis command name it is defined under. */
export const SCRIPTS: Record<string, ScriptDef> = {
  nmEnqueue: enqueue,
  nmLease: lease,
  nmRenew: renew,
  nmComplete: complete,
  nmRequeue: requeue,
  nmReleaseWorker: releaseWorker,
  nmSweep: sweep,
  nmPutApp: putApp,
  nmStopApp: stopApp,
  nmCreateCall: createCall,
  nmSetCallTotal: setCallTotal,
  nmPublishLogs: publishLogs,
  nmClaimSweeper: claimSweeper,
};
