/**
 * The Lua script that finishes inputs and records their outputs in one step
 * (key layout: `_redis_keys.ts`).
 * @module
 */
import { script, type ScriptDef } from "./_redis_lua.ts";

/**
 * Records outputs. A completion is accepted if its input is unfinished, its
 * token is current (or it is a control-plane completion), its call exists and
 * its output index was not recorded before. The input finishes either way once
 * the token matches. A call whose outputs reach its total gets its keys
 * expired after retentionMs (the sweep also forgets calls idle that long).
 * KEYS: 1 inputs, 2 leases, 3 expiries, 4 depth, 5 calls index.
 * ARGV: 1 key prefix, 2 nowMs, 3 retentionMs, 4 outputs channel, 5 sender, 6 the
 *       completions packed in one argument (`_redis_codec.ts` packCompletions), each
 *       `<inputId>\n<token>\n<output record>`, the token "" for the control plane, else
 *       "=" .. token; the output record is `<index>\n<data>`.
 * Result: 1 (accepted) or 0 per completion, then the ids of the calls that got outputs.
 */
export const COMPLETE: ScriptDef = script(
  5,
  `
local P = ARGV[1]
local ids, tokens, idxs, outs = {}, {}, {}, {}
for _, a in ipairs(unpack_records(ARGV[6])) do
  local p1 = string.find(a, "\\n", 1, true)
  local p2 = string.find(a, "\\n", p1 + 1, true)
  local out = string.sub(a, p2 + 1)
  ids[#ids + 1] = string.sub(a, 1, p1 - 1)
  tokens[#tokens + 1] = string.sub(a, p1 + 1, p2 - 1)
  idxs[#idxs + 1] = string.sub(out, 1, string.find(out, "\\n", 1, true) - 1)
  outs[#outs + 1] = out
end
local recs = hmget(KEYS[1], ids)
local held = hmget(KEYS[2], ids)
local result, finished, fin, unleased, expiring = {}, {}, {}, {}, {}
local counts, groups, call_ids = {}, {}, {}
for i, id in ipairs(ids) do
  result[i] = 0
  local token = tokens[i]
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
      ops[#ops + 1] = "SET"; ops[#ops + 1] = "u1"; ops[#ops + 1] = idxs[i]; ops[#ops + 1] = "1"
    end
    local was = chunked_collect("BITFIELD", done_key, ops)
    local outputs = {}
    for j, i in ipairs(groups[cid]) do
      if was[j] == 0 then
        result[i] = 1
        outputs[#outputs + 1] = outs[i]
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
  local names = { ARGV[5] }
  for i = 2, #touched, 2 do
    names[#names + 1] = touched[i]
    result[#result + 1] = touched[i]
  end
  redis.call("PUBLISH", ARGV[4], table.concat(names, "\\n"))
end
return result
`,
);
