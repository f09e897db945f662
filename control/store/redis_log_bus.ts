/**
 * {@linkcode LogBus} over Redis pub/sub: a batch published on one control
 * plane reaches the app's followers on all of them.
 * @module
 */
import type { LogBus, LogListener } from "./log_bus.ts";
import type { RedisContext } from "./_redis_context.ts";
import { script } from "./_redis_lua.ts";
import * as codec from "./_redis_codec.ts";

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

/** Log fan-out across control planes. */
export class RedisLogBus implements LogBus {
  #ctx: RedisContext;

  /** Defines its script on the context's connection. */
  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
    ctx.define({ nmPublishLogs: publishLogs });
  }

  publish(appId: string, data: Uint8Array): Promise<number> {
    const channel = this.#ctx.keys.logsChannelPrefix + appId;
    const { logSeq } = this.#ctx.keys;
    return this.#ctx.script("nmPublishLogs", logSeq, appId, channel, codec.toBuffer(data));
  }

  subscribe(appId: string, listener: LogListener): Promise<() => void> {
    return this.#ctx.run(() => this.#ctx.events.subscribeLogs(appId, listener));
  }

  seq(appId: string): Promise<number> {
    return this.#ctx.run(async (r) => Number(await r.hget(this.#ctx.keys.logSeq, appId) ?? 0));
  }
}
