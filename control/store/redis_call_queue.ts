/**
 * {@linkcode CallQueue} in Redis, shared by every control plane on it. Each
 * change is one Lua script (`_queue_scripts.ts`, `_requeue_scripts.ts`,
 * `_complete_script.ts`); time comes from the injected clock and is passed to
 * the scripts, never read from Redis, so leases can be faked in tests.
 * @module
 */
import type { Buffer } from "node:buffer";
import type {
  CallQueue,
  Completion,
  HeldInput,
  Lease,
  LeaseOptions,
  RequeueReport,
  WaitOptions,
} from "./call_queue.ts";
import type { InputRecord } from "./call_queue.ts";
import type { RedisContext } from "./_redis_context.ts";
import { QUEUE_SCRIPTS } from "./_queue_scripts.ts";
import { REQUEUE_SCRIPTS } from "./_requeue_scripts.ts";
import { COMPLETE } from "./_complete_script.ts";
import * as codec from "./_redis_codec.ts";
import { randomHex } from "../_ids.ts";

const SWEEP_LIMIT = 1000;

/** How long the sweeper role outlives its holder's last sweep. */
const SWEEPER_ROLE_MS = 30_000;

/** The queue and leases in Redis. */
export class RedisCallQueue implements CallQueue {
  readonly #sweeperId = crypto.randomUUID();
  #ctx: RedisContext;
  /** Keys 1-5 of the queue scripts. */
  #queueKeys: string[];

  /** Defines its scripts on the context's connection. */
  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
    const k = ctx.keys;
    this.#queueKeys = [k.inputs, k.queue, k.leases, k.expiries, k.depth];
    ctx.define({ ...QUEUE_SCRIPTS, ...REQUEUE_SCRIPTS, nmComplete: COMPLETE });
  }

  async enqueue(inputs: InputRecord[]): Promise<void> {
    if (inputs.length === 0) return;
    const { inputs: inputsKey, queue, depth, inputsChannel } = this.#ctx.keys;
    const { events } = this.#ctx;
    const keys = [inputsKey, queue, depth];
    const queued = await this.#ctx.script<number>(
      "nmEnqueue",
      ...[...keys, inputsChannel, events.sender],
      codec.packInputs(inputs),
    );
    if (queued > 0) events.wakeInputs();
  }

  async lease(workerId: string, { max, leaseMs }: LeaseOptions): Promise<Lease[]> {
    if (max <= 0) return [];
    const expiresMs = this.#ctx.clock.now() + leaseMs;
    // The nonce (64 random bits) keeps tokens unique without a Redis counter; it never
    // contains ":". Tokens travel with every input to the worker and back: short ones cost less.
    const prefix = `${workerId}:${randomHex(8)}.`;
    const out = await this.#ctx.script<Buffer[]>(
      "nmLeaseBuffer",
      ...this.#queueKeys,
      max,
      expiresMs,
      prefix,
    );
    return out.map((rec, i) => ({
      input: codec.decodeInput(rec),
      leaseToken: `${prefix}${i + 1}`,
      workerId,
      expiresMs,
    }));
  }

  async renew(
    workerId: string,
    options: { inputIds: string[]; leaseMs: number },
  ): Promise<string[]> {
    if (options.inputIds.length === 0) return [];
    const expiresMs = this.#ctx.clock.now() + options.leaseMs;
    const { leases, expiries } = this.#ctx.keys;
    return await this.#ctx.script(
      "nmRenew",
      leases,
      expiries,
      workerId,
      expiresMs,
      ...options.inputIds,
    );
  }

  async complete(completions: Completion[]): Promise<boolean[]> {
    if (completions.length === 0) return [];
    for (const { output } of completions) checkIndex(output.idx);
    const { inputs, leases, expiries, depth, calls, outputsChannel, prefix } = this.#ctx.keys;
    const { events } = this.#ctx;
    const result = await this.#ctx.script<(number | string)[]>(
      "nmComplete",
      ...[inputs, leases, expiries, depth, calls],
      ...[prefix, this.#ctx.clock.now(), this.#ctx.retentionMs, outputsChannel, events.sender],
      codec.packCompletions(completions),
    );
    // Waiters here wake now; the message this publishes is for other control planes.
    if (result.length > completions.length) {
      events.wakeOutputs(result.slice(completions.length) as string[]);
    }
    return result.slice(0, completions.length).map((accepted) => accepted === 1);
  }

  async requeue(items: HeldInput[], maxInfraAttempts: number): Promise<RequeueReport> {
    if (items.length === 0) return { requeued: 0, exhausted: [] };
    const pairs = items.flatMap((i) => [i.inputId, i.leaseToken]);
    const channel = this.#ctx.keys.inputsChannel;
    return toReport(
      await this.#ctx.script(
        "nmRequeueBuffer",
        ...this.#queueKeys,
        maxInfraAttempts,
        channel,
        ...pairs,
      ),
    );
  }

  async giveBack(items: HeldInput[]): Promise<number> {
    if (items.length === 0) return 0;
    const pairs = items.flatMap((i) => [i.inputId, i.leaseToken]);
    const channel = this.#ctx.keys.inputsChannel;
    return await this.#ctx.script("nmGiveBack", ...this.#queueKeys, channel, ...pairs);
  }

  async releaseWorker(workerId: string, maxInfraAttempts: number): Promise<RequeueReport> {
    const channel = this.#ctx.keys.inputsChannel;
    return toReport(
      await this.#ctx.script(
        "nmReleaseWorkerBuffer",
        ...this.#queueKeys,
        maxInfraAttempts,
        channel,
        workerId,
      ),
    );
  }

  async sweep(maxInfraAttempts: number): Promise<RequeueReport> {
    const now = this.#ctx.clock.now();
    const report: RequeueReport = { requeued: 0, exhausted: [] };
    // One sweeper among all control planes on this Redis; the role lapses if its holder dies.
    const held = await this.#ctx.script<number>(
      "nmClaimSweeper",
      this.#ctx.keys.sweeper,
      this.#sweeperId,
      SWEEPER_ROLE_MS,
    );
    if (held !== 1) return report;
    // Bounded runs keep Redis responsive; loop until a run finds less than its limit.
    for (let more = true; more;) {
      const [requeued, again, ...exhausted] = await this.#ctx.script<
        [number, number, ...Buffer[]]
      >(
        "nmSweepBuffer",
        ...this.#queueKeys,
        ...[maxInfraAttempts, this.#ctx.keys.inputsChannel, now, SWEEP_LIMIT],
      );
      report.requeued += requeued;
      report.exhausted.push(...exhausted.map(codec.decodeInput));
      more = again === 1;
    }
    return report;
  }

  async dropQueued(functionIds: string[]): Promise<number> {
    if (functionIds.length === 0) return 0;
    const { inputs, queue, leases, depth } = this.#ctx.keys;
    return await this.#ctx.script("nmDropQueued", inputs, queue, leases, depth, ...functionIds);
  }

  waitInputs({ timeoutMs, signal }: WaitOptions): Promise<void> {
    return this.#ctx.waitUnless(
      (s) => this.#ctx.events.waitInputs(timeoutMs, s),
      async (r) => (await r.llen(this.#ctx.keys.queue)) > 0,
      signal,
    );
  }

  depth(): Promise<Record<string, number>> {
    return this.#ctx.run(async (r) => {
      const raw = await r.hgetall(this.#ctx.keys.depth);
      const depth: Record<string, number> = {};
      for (const [fn, n] of Object.entries(raw)) if (+n > 0) depth[fn] = +n;
      return depth;
    });
  }
}

function toReport([requeued, ...exhausted]: [number, ...Buffer[]]): RequeueReport {
  return { requeued, exhausted: exhausted.map(codec.decodeInput) };
}

/** The done-bitmap takes the index as a bit offset, which Redis caps at 2^32. */
function checkIndex(idx: number): void {
  if (!Number.isSafeInteger(idx) || idx < 0 || idx >= 2 ** 32) {
    throw new RangeError(`Cannot record output index ${idx}: expected an integer in [0, 2^32)`);
  }
}
