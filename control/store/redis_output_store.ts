/**
 * {@linkcode OutputStore} in Redis: any control plane can serve a call's
 * outputs, and a wait on one ends when another records an output (pub/sub).
 * @module
 */
import type { WaitOptions } from "./call_queue.ts";
import type { CallRecord, OutputPage, OutputStore } from "./output_store.ts";
import type { RedisContext } from "./_redis_context.ts";
import { OUTPUT_SCRIPTS } from "./_output_scripts.ts";
import * as codec from "./_redis_codec.ts";

const FORGET_LIMIT = 1000;

/** Calls and outputs in Redis. */
export class RedisOutputStore implements OutputStore {
  #ctx: RedisContext;

  /** Defines its scripts on the context's connection. */
  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
    ctx.define(OUTPUT_SCRIPTS);
  }

  async createCall(call: CallRecord): Promise<void> {
    const { callId, functionId, appId, createdMs, total } = call;
    const keys = [this.#ctx.key("call:", callId), this.#ctx.keys.calls];
    const now = this.#ctx.clock.now();
    await this.#ctx.script(
      "nmCreateCall",
      ...keys,
      callId,
      now,
      functionId,
      appId,
      createdMs,
      total ?? "",
    );
  }

  getCall(callId: string): Promise<CallRecord | undefined> {
    return this.#ctx.run(async (r) => {
      const h = await r.hgetall(this.#ctx.key("call:", callId));
      if (h.functionId === undefined) return undefined;
      const total = h.total === "" ? null : Number(h.total);
      return { callId, functionId: h.functionId, appId: h.appId, createdMs: +h.createdMs, total };
    });
  }

  async setCallTotal(callId: string, total: number): Promise<void> {
    const keys = [this.#ctx.key("call:", callId), this.#ctx.key("out:", callId)];
    const { outputsChannel, prefix } = this.#ctx.keys;
    await this.#ctx.script(
      "nmSetCallTotal",
      ...keys,
      ...[total, outputsChannel, callId, prefix, this.#ctx.retentionMs],
    );
  }

  readOutputs(
    callId: string,
    { cursor, max }: { cursor: number; max: number },
  ): Promise<OutputPage> {
    if (max <= 0) return Promise.resolve({ outputs: [], cursor });
    return this.#ctx.run(async (r) => {
      const raw = await r.lrangeBuffer(this.#ctx.key("out:", callId), cursor, cursor + max - 1);
      return { outputs: raw.map(codec.decodeOutput), cursor: cursor + raw.length };
    });
  }

  /** Kept in Redis until the call's retention ends: Redis's memory, not this process's. */
  release(_callId: string, _cursor: number): Promise<void> {
    return Promise.resolve();
  }

  waitOutputs(callId: string, options: WaitOptions & { cursor: number }): Promise<void> {
    return this.#ctx.waitUnless(
      (s) => this.#ctx.events.waitOutputs(callId, options.timeoutMs, s),
      async (r) => {
        const [exists, length] = await Promise.all([
          r.exists(this.#ctx.key("call:", callId)),
          r.llen(this.#ctx.key("out:", callId)),
        ]);
        return exists === 0 || length > options.cursor;
      },
      options.signal,
    );
  }

  async forgetIdle(): Promise<number> {
    const cutoff = this.#ctx.clock.now() - this.#ctx.retentionMs;
    let total = 0;
    // Bounded runs keep Redis responsive; loop until a run finds less than its limit.
    for (let n = FORGET_LIMIT; n === FORGET_LIMIT;) {
      n = await this.#ctx.script<number>(
        "nmForgetIdle",
        this.#ctx.keys.calls,
        cutoff,
        this.#ctx.keys.prefix,
        FORGET_LIMIT,
      );
      total += n;
    }
    return total;
  }
}
