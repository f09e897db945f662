/**
 * What every Lua script of the Redis store starts with: helpers for chunked
 * multi-element commands, record headers and lease tokens. Each script is
 * one atomic change, called with EVALSHA through ioredis `defineCommand`.
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
-- The records packed in one argument (_redis_codec.ts pack): a 4-byte big-endian length, then
-- the record, and so on.
local function unpack_records(s)
  local out, at, n = {}, 1, #s
  while at <= n do
    local b1, b2, b3, b4 = string.byte(s, at, at + 3)
    local len = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
    out[#out + 1] = string.sub(s, at + 4, at + 3 + len)
    at = at + 4 + len
  end
  return out
end
local function hmget(key, fields) return chunked_collect("HMGET", key, fields) end
local function parse(rec)
  local nl = string.find(rec, "\\n", 1, true)
  return cjson.decode(string.sub(rec, 1, nl - 1)), string.sub(rec, nl)
end
-- The input, call and function ids of an input record, read off its header
-- without decoding it (decoding a JSON header per input dominated lease and complete).
local function input_ids(rec)
  local id, cid, fid = string.match(rec, '^%["([^"]*)","([^"]*)","([^"]*)"')
  if id then return id, cid, fid end
  local h = parse(rec)
  return h[1], h[2], h[3]
end
local function call_and_function(rec)
  local _, cid, fid = input_ids(rec)
  return cid, fid
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

/** A script whose first `numberOfKeys` arguments are keys, with the prelude. */
export function script(numberOfKeys: number, body: string): ScriptDef {
  return { numberOfKeys, lua: PRELUDE + body };
}
