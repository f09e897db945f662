/**
 * {@linkcode AppStore} in Redis. An app is JSON in `P apps`; whether it is
 * stopped lives in the `P stopped` set, so stopping never rewrites the JSON,
 * and when, in the `P stoppedms` zset, so stopped runs can be forgotten.
 * @module
 */
import type { AppRecord, AppStore, FunctionRecord } from "./app_store.ts";
import type { RedisContext } from "./_redis_context.ts";
import { script } from "./_redis_lua.ts";
import * as codec from "./_redis_codec.ts";
import { FunctionCache } from "./_function_cache.ts";

/**
 * Stores an app and its functions.
 * KEYS: 1 apps, 2 stopped set, 3 functions, 4 stop times.
 * ARGV: 1 appId, 2 app JSON, 3 "1" if stopped else "0", 4 nowMs, then pairs functionId, record.
 * Result: nil.
 */
const putApp = script(
  4,
  `
redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == "1" then
  redis.call("SADD", KEYS[2], ARGV[1])
  redis.call("ZADD", KEYS[4], "NX", ARGV[4], ARGV[1])
else
  redis.call("SREM", KEYS[2], ARGV[1])
  redis.call("ZREM", KEYS[4], ARGV[1])
end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
chunked("HSET", KEYS[3], fields)
return false
`,
);

/**
 * Marks an app stopped, if it exists, noting when it first stopped.
 * KEYS: 1 apps, 2 stopped set, 3 stop times.
 * ARGV: 1 appId, 2 nowMs.
 * Result: 1 if the app exists, else 0.
 */
const stopApp = script(
  3,
  `
if redis.call("HEXISTS", KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call("SADD", KEYS[2], ARGV[1]) == 1 then
  redis.call("ZADD", KEYS[3], "NX", ARGV[2], ARGV[1])
end
return 1
`,
);

/**
 * Gives stopped apps without a stop time (stopped before stop times were
 * kept) their creation time as one, so they can be forgotten too.
 * KEYS: 1 apps, 2 stopped set, 3 stop times.
 * Result: how many got one.
 */
const dateStopped = script(
  3,
  `
local added = 0
for _, id in ipairs(redis.call("SMEMBERS", KEYS[2])) do
  if not redis.call("ZSCORE", KEYS[3], id) then
    local raw = redis.call("HGET", KEYS[1], id)
    if raw then
      redis.call("ZADD", KEYS[3], cjson.decode(raw).createdMs or 0, id)
      added = added + 1
    end
  end
end
return added
`,
);

/**
 * Forgets the ephemeral apps stopped before a time, at most `limit` per run;
 * deployed ones only leave the stop-time index.
 * KEYS: 1 apps, 2 stopped set, 3 stop times, 4 functions, 5 log sequences.
 * ARGV: 1 cutoff ms, 2 limit.
 * Result: { forgotten, 1 if the run hit its limit else 0 }.
 */
const forgetStopped = script(
  5,
  `
local limit = tonumber(ARGV[2])
local old = redis.call("ZRANGEBYSCORE", KEYS[3], "-inf", "(" .. ARGV[1], "LIMIT", 0, limit)
local forgotten = 0
for _, id in ipairs(old) do
  redis.call("ZREM", KEYS[3], id)
  local raw = redis.call("HGET", KEYS[1], id)
  if raw and redis.call("SISMEMBER", KEYS[2], id) == 1 then
    local app = cjson.decode(raw)
    if app.ephemeral then
      local fns = {}
      for _, fid in pairs(app.functionIds or {}) do fns[#fns + 1] = fid end
      chunked("HDEL", KEYS[4], fns)
      redis.call("HDEL", KEYS[1], id)
      redis.call("SREM", KEYS[2], id)
      redis.call("HDEL", KEYS[5], id)
      forgotten = forgotten + 1
    end
  end
end
return { forgotten, #old == limit and 1 or 0 }
`,
);

const FORGET_LIMIT = 1000;

/** Apps and functions in Redis. */
export class RedisAppStore implements AppStore {
  #ctx: RedisContext;
  /** Function records never change under their id: read once (see `_function_cache.ts`). */
  readonly #functions = new FunctionCache();
  /** Whether this process has dated the stopped apps that had no stop time. */
  #dated = false;

  /** Defines its scripts on the context's connection. */
  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
    ctx.define({
      nmPutApp: putApp,
      nmStopApp: stopApp,
      nmDateStopped: dateStopped,
      nmForgetStopped: forgetStopped,
    });
  }

  async putApp(app: AppRecord, functions: FunctionRecord[]): Promise<void> {
    const fns = functions.flatMap((fn) => [fn.functionId, codec.encodeFunction(fn)]);
    const { stopped, ...rest } = app;
    const { apps, stopped: stoppedKey, fns: fnsKey, stoppedMs } = this.#ctx.keys;
    const json = JSON.stringify(rest);
    const now = this.#ctx.clock.now();
    await this.#ctx.script(
      "nmPutApp",
      ...[apps, stoppedKey, fnsKey, stoppedMs],
      ...[app.appId, json, +stopped, now, ...fns],
    );
  }

  getApp(appId: string): Promise<AppRecord | undefined> {
    return this.#ctx.run(async (r) => {
      const [raw, stopped] = await Promise.all([
        r.hget(this.#ctx.keys.apps, appId),
        r.sismember(this.#ctx.keys.stopped, appId),
      ]);
      return raw === null ? undefined : { ...JSON.parse(raw), stopped: stopped === 1 };
    });
  }

  listApps(options: { live?: boolean } = {}): Promise<AppRecord[]> {
    return this.#ctx.run(async (r) => {
      const [all, stopped] = await Promise.all([
        r.hgetall(this.#ctx.keys.apps),
        r.smembers(this.#ctx.keys.stopped),
      ]);
      const isStopped = new Set(stopped);
      return Object.entries(all).filter(([id]) => !options.live || !isStopped.has(id)).map((
        [id, raw],
      ) => ({ ...JSON.parse(raw), stopped: isStopped.has(id) }));
    });
  }

  async stopApp(appId: string): Promise<boolean> {
    const { apps, stopped, stoppedMs } = this.#ctx.keys;
    const now = this.#ctx.clock.now();
    return (await this.#ctx.script<number>("nmStopApp", apps, stopped, stoppedMs, appId, now)) ===
      1;
  }

  async forgetStopped(): Promise<number> {
    const { apps, stopped, stoppedMs, fns, logSeq } = this.#ctx.keys;
    if (!this.#dated) {
      await this.#ctx.script("nmDateStopped", apps, stopped, stoppedMs);
      this.#dated = true;
    }
    const cutoff = this.#ctx.clock.now() - this.#ctx.retentionMs;
    let total = 0;
    // Bounded runs keep Redis responsive; loop until a run finds less than its limit.
    for (let more = true; more;) {
      const [n, again] = await this.#ctx.script<[number, number]>(
        "nmForgetStopped",
        ...[apps, stopped, stoppedMs, fns, logSeq],
        ...[cutoff, FORGET_LIMIT],
      );
      total += n;
      more = again === 1;
    }
    return total;
  }

  getFunction(functionId: string): Promise<FunctionRecord | undefined> {
    const kept = this.#functions.get(functionId);
    if (kept) return Promise.resolve(kept);
    return this.#ctx.run(async (r) => {
      const raw = await r.hgetBuffer(this.#ctx.keys.fns, functionId);
      return raw ? this.#functions.keep(codec.decodeFunction(raw)) : undefined;
    });
  }
}
