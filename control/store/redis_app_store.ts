/**
 * {@linkcode AppStore} in Redis. An app is JSON in `P apps`; whether it is
 * stopped lives in the `P stopped` set, so stopping never rewrites the JSON.
 * @module
 */
import type { AppRecord, AppStore, FunctionRecord } from "./app_store.ts";
import type { RedisContext } from "./_redis_context.ts";
import { script } from "./_redis_lua.ts";
import * as codec from "./_redis_codec.ts";
import { FunctionCache } from "./_function_cache.ts";

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
 * Marks an app stopped, if it exists.
 * KEYS: 1 apps, 2 stopped set.
 * ARGV: 1 appId.
 * Result: 1 if the app exists, else 0.
 */
const stopApp = script(
  2,
  `
if redis.call("HEXISTS", KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call("SADD", KEYS[2], ARGV[1])
return 1
`,
);

/** Apps and functions in Redis. */
export class RedisAppStore implements AppStore {
  #ctx: RedisContext;
  /** Function records never change under their id: read once (see `_function_cache.ts`). */
  readonly #functions = new FunctionCache();

  /** Defines its scripts on the context's connection. */
  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
    ctx.define({ nmPutApp: putApp, nmStopApp: stopApp });
  }

  async putApp(app: AppRecord, functions: FunctionRecord[]): Promise<void> {
    const fns = functions.flatMap((fn) => [fn.functionId, codec.encodeFunction(fn)]);
    const { stopped, ...rest } = app;
    const { apps, stopped: stoppedKey, fns: fnsKey } = this.#ctx.keys;
    const json = JSON.stringify(rest);
    await this.#ctx.script("nmPutApp", apps, stoppedKey, fnsKey, app.appId, json, +stopped, ...fns);
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

  listApps(): Promise<AppRecord[]> {
    return this.#ctx.run(async (r) => {
      const [all, stopped] = await Promise.all([
        r.hgetall(this.#ctx.keys.apps),
        r.smembers(this.#ctx.keys.stopped),
      ]);
      const isStopped = new Set(stopped);
      return Object.entries(all).map(([id, raw]) => ({
        ...JSON.parse(raw),
        stopped: isStopped.has(id),
      }));
    });
  }

  async stopApp(appId: string): Promise<boolean> {
    const { apps, stopped } = this.#ctx.keys;
    return (await this.#ctx.script<number>("nmStopApp", apps, stopped, appId)) === 1;
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
