/**
 * The Redis backend: state in a Redis server that many control planes share,
 * so they are stateless and any may serve any client or worker.
 *
 * Each atomic change is one Lua script (`_redis_scripts.ts`); wake-ups travel
 * over pub/sub (`_redis_events.ts`). Time comes from the injected clock and is
 * passed to the scripts, never read from Redis, so leases can be faked in tests.
 * @module
 */
import type { Buffer } from "node:buffer";
import type { Redis } from "./_deps.ts";
import type {
  AppRecord,
  Backend,
  CallRecord,
  Clock,
  Completion,
  FunctionRecord,
  InputRecord,
  Lease,
  OutputRecord,
  RequeueReport,
  WorkerRecord,
} from "./backend.ts";
import { systemClock } from "./backend.ts";
import { SCRIPTS } from "./_redis_scripts.ts";
import { channelNames, RedisEvents } from "./_redis_events.ts";
import {
  closeConnection,
  describeUrl,
  explainFailure,
  openConnection,
} from "./_redis_connection.ts";
import * as codec from "./_redis_codec.ts";

export { RedisUnavailableError } from "./_redis_connection.ts";

/** Options for {@linkcode RedisBackend}. */
export interface RedisBackendOptions {
  /** A `redis://` or `rediss://` URL. */
  url: string;
  clock?: Clock;
  /** How long finished calls stay retrievable. @default 86_400_000 (24 h) */
  retentionMs?: number;
  /** Prepended to every key and channel, so deployments can share a Redis. @default "nm:" */
  keyPrefix?: string;
}

type Arg = string | number | Buffer;
type ScriptClient = Redis & Record<string, (...args: Arg[]) => Promise<unknown>>;
type ScriptReport = [number, ...Buffer[]];

const SWEEP_LIMIT = 1000;

/** How long the sweeper role outlives its holder's last sweep. */
const SWEEPER_ROLE_MS = 30_000;

/**
 * {@linkcode Backend} on Redis (ioredis), with one command connection and one
 * subscriber connection per instance. Requires `maxmemory-policy noeviction`:
 * see {@linkcode RedisBackend.warnings}.
 *
 * @example
 * ```ts ignore
 * import { RedisBackend } from "./redis_backend.ts";
 * const backend = await RedisBackend.connect("redis://127.0.0.1:6379");
 * for (const warning of await backend.warnings()) console.warn(warning);
 * await backend.close();
 * ```
 */
export class RedisBackend implements Backend {
  readonly #sweeperId = crypto.randomUUID();
  readonly kind = "redis";
  #client: ScriptClient;
  #sub: Redis;
  #events: RedisEvents;
  #clock: Clock;
  #retentionMs: number;
  #prefix: string;
  #url: string;
  #k: ReturnType<typeof keyNames>;
  /** Keys 1-5 of the queue scripts. */
  #queueKeys: string[];

  /** Starts connecting; commands wait for the connection. Prefer {@linkcode RedisBackend.connect}. */
  constructor(options: RedisBackendOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#retentionMs = options.retentionMs ?? 86_400_000;
    this.#prefix = options.keyPrefix ?? "nm:";
    this.#url = options.url;
    this.#k = keyNames(this.#prefix);
    const k = this.#k;
    this.#queueKeys = [k.inputs, k.queue, k.leases, k.expiries, k.depth];
    // Only the command connection reports outages: the subscriber fails alongside it.
    this.#client = openConnection(
      options.url,
      (m) => console.error(`nano-modal: ${m}`),
    ) as ScriptClient;
    this.#sub = openConnection(options.url);
    for (const [name, def] of Object.entries(SCRIPTS)) this.#client.defineCommand(name, def);
    this.#events = new RedisEvents(this.#sub, this.#prefix);
  }

  /** Connects and subscribes, failing with {@linkcode RedisUnavailableError} if Redis is down. */
  static async connect(
    url: string,
    options: Omit<RedisBackendOptions, "url"> = {},
  ): Promise<RedisBackend> {
    const backend = new RedisBackend({ ...options, url });
    try {
      await backend.#run(async (r) => {
        await r.ping();
        await backend.#events.ready();
      });
    } catch (error) {
      await backend.close();
      throw error;
    }
    return backend;
  }

  /** Configuration problems that can lose inputs, as messages for the operator. */
  warnings(): Promise<string[]> {
    const where = describeUrl(this.#url);
    return this.#run(async (r) => {
      let policy: string;
      try {
        policy = ((await r.config("GET", "maxmemory-policy")) as string[])[1];
      } catch (error) {
        if (explainFailure(error, this.#url) !== error) throw error;
        return [
          `WARNING: cannot read maxmemory-policy from Redis at ${where} (${error}): make sure ` +
          "it is noeviction, or Redis may evict keys and silently lose queued inputs.",
        ];
      }
      if (policy === "noeviction") return [];
      return [
        `WARNING: Redis at ${where} has maxmemory-policy "${policy}": when memory fills up, ` +
        "Redis evicts keys, which loses queued inputs, leases and results. Fix it with " +
        "`redis-cli CONFIG SET maxmemory-policy noeviction` (and in redis.conf).",
      ];
    });
  }

  putBundle(hash: string, data: Uint8Array): Promise<void> {
    return this.#run(async (r) =>
      void await r.set(this.#key("bundle:", hash), codec.toBuffer(data))
    );
  }
  hasBundle(hash: string): Promise<boolean> {
    return this.#run(async (r) => (await r.exists(this.#key("bundle:", hash))) === 1);
  }
  getBundle(hash: string): Promise<Uint8Array | undefined> {
    return this.#run(async (r) => {
      const data = await r.getBuffer(this.#key("bundle:", hash));
      return data ? codec.toBytes(data) : undefined;
    });
  }

  async putApp(app: AppRecord, functions: FunctionRecord[]): Promise<void> {
    const fns = functions.flatMap((fn) => [fn.functionId, codec.encodeFunction(fn)]);
    // "stopped" lives in its own set so stopApp() never rewrites the app's JSON in Lua.
    const { stopped, ...rest } = app;
    const { apps, stopped: stoppedKey, fns: fnsKey } = this.#k;
    const json = JSON.stringify(rest);
    await this.#script("nmPutApp", apps, stoppedKey, fnsKey, app.appId, json, +stopped, ...fns);
  }
  getApp(appId: string): Promise<AppRecord | undefined> {
    return this.#run(async (r) => {
      const [raw, stopped] = await Promise.all([
        r.hget(this.#k.apps, appId),
        r.sismember(this.#k.stopped, appId),
      ]);
      return raw === null ? undefined : { ...JSON.parse(raw), stopped: stopped === 1 };
    });
  }
  listApps(): Promise<AppRecord[]> {
    return this.#run(async (r) => {
      const [all, stopped] = await Promise.all([
        r.hgetall(this.#k.apps),
        r.smembers(this.#k.stopped),
      ]);
      const isStopped = new Set(stopped);
      return Object.entries(all).map(([id, raw]) => ({
        ...JSON.parse(raw),
        stopped: isStopped.has(id),
      }));
    });
  }
  async stopApp(appId: string): Promise<void> {
    const { apps, stopped, inputs, queue, leases, depth } = this.#k;
    await this.#script("nmStopApp", apps, stopped, inputs, queue, leases, depth, appId);
  }
  getFunction(functionId: string): Promise<FunctionRecord | undefined> {
    return this.#run(async (r) => {
      const raw = await r.hgetBuffer(this.#k.fns, functionId);
      return raw ? codec.decodeFunction(raw) : undefined;
    });
  }

  async createCall(call: CallRecord): Promise<void> {
    const { callId, functionId, appId, createdMs, total } = call;
    const keys = [this.#key("call:", callId), this.#k.calls];
    const now = this.#clock.now();
    await this.#script(
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
    return this.#run(async (r) => {
      const h = await r.hgetall(this.#key("call:", callId));
      if (h.functionId === undefined) return undefined;
      const total = h.total === "" ? null : Number(h.total);
      return { callId, functionId: h.functionId, appId: h.appId, createdMs: +h.createdMs, total };
    });
  }
  async setCallTotal(callId: string, total: number): Promise<void> {
    const keys = [this.#key("call:", callId), this.#key("out:", callId)];
    const channel = this.#k.outputsChannel;
    await this.#script(
      "nmSetCallTotal",
      ...keys,
      total,
      channel,
      callId,
      this.#prefix,
      this.#retentionMs,
    );
  }

  async enqueue(inputs: InputRecord[]): Promise<void> {
    if (inputs.length === 0) return;
    const args = inputs.flatMap((i) => [i.inputId, i.functionId, codec.encodeInput(i)]);
    const { inputs: inputsKey, queue, depth, inputsChannel } = this.#k;
    await this.#script("nmEnqueue", inputsKey, queue, depth, inputsChannel, ...args);
  }

  async lease(workerId: string, max: number, leaseMs: number): Promise<Lease[]> {
    if (max <= 0) return [];
    const expiresMs = this.#clock.now() + leaseMs;
    // The nonce keeps tokens unique without a Redis counter; it never contains ":".
    const prefix = `${workerId}:${crypto.randomUUID()}.`;
    const out = await this.#script<Buffer[]>(
      "nmLeaseBuffer",
      ...this.#queueKeys,
      max,
      expiresMs,
      prefix,
    );
    const leases: Lease[] = [];
    for (let i = 0; i < out.length; i += 2) {
      const input = codec.decodeInput(out[i + 1]);
      leases.push({ input, leaseToken: out[i].toString(), workerId, expiresMs });
    }
    return leases;
  }

  async renew(workerId: string, inputIds: string[], leaseMs: number): Promise<string[]> {
    if (inputIds.length === 0) return [];
    const expiresMs = this.#clock.now() + leaseMs;
    const { leases, expiries } = this.#k;
    return await this.#script("nmRenew", leases, expiries, workerId, expiresMs, ...inputIds);
  }

  async complete(completions: Completion[]): Promise<boolean[]> {
    if (completions.length === 0) return [];
    const args: Arg[] = [];
    for (const { inputId, leaseToken, output } of completions) {
      checkIndex(output.idx);
      const token = leaseToken === null ? "" : `=${leaseToken}`;
      args.push(inputId, token, output.idx, codec.encodeOutput(output));
    }
    const { inputs, leases, expiries, depth, calls, outputsChannel } = this.#k;
    const result = await this.#script<number[]>(
      "nmComplete",
      ...[inputs, leases, expiries, depth, calls],
      ...[this.#prefix, this.#clock.now(), this.#retentionMs, outputsChannel],
      ...args,
    );
    return result.map((accepted) => accepted === 1);
  }

  async requeue(
    items: { inputId: string; leaseToken: string }[],
    maxInfraAttempts: number,
  ): Promise<RequeueReport> {
    if (items.length === 0) return { requeued: 0, exhausted: [] };
    const pairs = items.flatMap((i) => [i.inputId, i.leaseToken]);
    const channel = this.#k.inputsChannel;
    const queueKeys = this.#queueKeys;
    return toReport(
      await this.#script("nmRequeueBuffer", ...queueKeys, maxInfraAttempts, channel, ...pairs),
    );
  }

  async releaseWorker(workerId: string, maxInfraAttempts: number): Promise<RequeueReport> {
    const channel = this.#k.inputsChannel;
    const queueKeys = this.#queueKeys;
    return toReport(
      await this.#script(
        "nmReleaseWorkerBuffer",
        ...queueKeys,
        maxInfraAttempts,
        channel,
        workerId,
      ),
    );
  }

  async sweep(maxInfraAttempts: number): Promise<RequeueReport> {
    const now = this.#clock.now();
    const report: RequeueReport = { requeued: 0, exhausted: [] };
    // One sweeper among all control planes on this Redis; the role lapses if its holder dies.
    const held = await this.#script<number>(
      "nmClaimSweeper",
      this.#key("sweeper", ""),
      this.#sweeperId,
      SWEEPER_ROLE_MS,
    );
    if (held !== 1) return report;
    // Bounded runs keep Redis responsive; loop until a run finds less than its limit.
    for (let more = true; more;) {
      const [requeued, again, ...exhausted] = await this.#script<[number, number, ...Buffer[]]>(
        "nmSweepBuffer",
        ...[...this.#queueKeys, this.#k.calls],
        ...[maxInfraAttempts, this.#k.inputsChannel, now, now - this.#retentionMs],
        ...[this.#prefix, SWEEP_LIMIT],
      );
      report.requeued += requeued;
      report.exhausted.push(...exhausted.map(codec.decodeInput));
      more = again === 1;
    }
    return report;
  }

  readOutputs(
    callId: string,
    cursor: number,
    max: number,
  ): Promise<{ outputs: OutputRecord[]; cursor: number }> {
    if (max <= 0) return Promise.resolve({ outputs: [], cursor });
    return this.#run(async (r) => {
      const raw = await r.lrangeBuffer(this.#key("out:", callId), cursor, cursor + max - 1);
      return { outputs: raw.map(codec.decodeOutput), cursor: cursor + raw.length };
    });
  }

  waitOutputs(
    callId: string,
    cursor: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    return this.#waitUnless(
      (s) => this.#events.waitOutputs(callId, timeoutMs, s),
      async (r) => {
        const [exists, length] = await Promise.all([
          r.exists(this.#key("call:", callId)),
          r.llen(this.#key("out:", callId)),
        ]);
        return exists === 0 || length > cursor;
      },
      signal,
    );
  }

  waitInputs(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.#waitUnless(
      (s) => this.#events.waitInputs(timeoutMs, s),
      async (r) => (await r.llen(this.#k.queue)) > 0,
      signal,
    );
  }

  publishLogs(appId: string, data: Uint8Array): Promise<number> {
    const channel = this.#key("logs:", appId);
    return this.#script("nmPublishLogs", this.#k.logSeq, appId, channel, codec.toBuffer(data));
  }
  subscribeLogs(
    appId: string,
    onLogs: (data: Uint8Array, seq: number) => void,
  ): Promise<() => void> {
    return this.#run(() => this.#events.subscribeLogs(appId, onLogs));
  }
  logSeq(appId: string): Promise<number> {
    return this.#run(async (r) => Number(await r.hget(this.#k.logSeq, appId) ?? 0));
  }

  queueDepth(): Promise<Record<string, number>> {
    return this.#run(async (r) => {
      const raw = await r.hgetall(this.#k.depth);
      const depth: Record<string, number> = {};
      for (const [fn, n] of Object.entries(raw)) if (+n > 0) depth[fn] = +n;
      return depth;
    });
  }
  heartbeatWorker(worker: WorkerRecord): Promise<void> {
    const json = JSON.stringify(worker);
    return this.#run(async (r) => void await r.hset(this.#k.workers, worker.workerId, json));
  }
  removeWorker(workerId: string): Promise<void> {
    return this.#run(async (r) => void await r.hdel(this.#k.workers, workerId));
  }
  listWorkers(): Promise<WorkerRecord[]> {
    return this.#run(async (r) => (await r.hvals(this.#k.workers)).map((raw) => JSON.parse(raw)));
  }

  /** Ends pending waits and closes both connections. */
  async close(): Promise<void> {
    this.#events.close();
    await Promise.all([closeConnection(this.#client), closeConnection(this.#sub)]);
  }

  /** Registers the wait before checking state, so a message in between is not missed. */
  async #waitUnless(
    wait: (signal: AbortSignal) => Promise<void>,
    ready: (r: ScriptClient) => Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.#run(() => this.#events.ready());
    const early = new AbortController();
    const waiting = wait(signal ? AbortSignal.any([signal, early.signal]) : early.signal);
    try {
      if (await this.#run(ready)) early.abort();
    } catch (error) {
      early.abort();
      throw error;
    } finally {
      await waiting;
    }
  }

  #script<T>(name: string, ...args: Arg[]): Promise<T> {
    return this.#run((r) => r[name](...args) as Promise<T>);
  }

  async #run<T>(fn: (r: ScriptClient) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#client);
    } catch (error) {
      throw explainFailure(error, this.#url);
    }
  }

  #key(kind: string, id: string): string {
    return this.#prefix + kind + id;
  }
}

/** Fixed keys and channels under a prefix; the layout is documented in `_redis_scripts.ts`. */
function keyNames(prefix: string) {
  const { inputs: inputsChannel, outputs: outputsChannel } = channelNames(prefix);
  return {
    inputs: `${prefix}in`,
    queue: `${prefix}q`,
    leases: `${prefix}lease`,
    expiries: `${prefix}exp`,
    depth: `${prefix}depth`,
    calls: `${prefix}calls`,
    apps: `${prefix}apps`,
    stopped: `${prefix}stopped`,
    fns: `${prefix}fns`,
    workers: `${prefix}workers`,
    logSeq: `${prefix}logseq`,
    inputsChannel,
    outputsChannel,
  };
}

function toReport([requeued, ...exhausted]: ScriptReport): RequeueReport {
  return { requeued, exhausted: exhausted.map(codec.decodeInput) };
}

/** The done-bitmap takes the index as a bit offset, which Redis caps at 2^32. */
function checkIndex(idx: number): void {
  if (!Number.isSafeInteger(idx) || idx < 0 || idx >= 2 ** 32) {
    throw new RangeError(`Cannot record output index ${idx}: expected an integer in [0, 2^32)`);
  }
}
