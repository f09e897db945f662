/**
 * The Redis backend: state in a Redis server that many control planes share,
 * so they are stateless and any may serve any client or worker.
 *
 * Each atomic change is one Lua script (`_redis_scripts.ts`); wake-ups travel
 * over pub/sub (`_redis_events.ts`). Time comes from the injected clock and is
 * passed to the scripts, never read from Redis, so leases can be faked in tests.
 * @module
 */
import { Redis, type RedisOptions } from "npm:ioredis@5.8.2";
import type { Buffer } from "node:buffer";
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
import * as codec from "./_redis_codec.ts";

/** Options for {@linkcode RedisBackend}. */
export interface RedisBackendOptions {
  /** A `redis://` or `rediss://` URL. */
  url: string;
  clock?: Clock;
  /** How long finished calls stay retrievable. @default 86_400_000 (24 h) */
  retentionMs?: number;
  /** Prepended to every key and channel, so several deployments can share a Redis. @default "nm:" */
  keyPrefix?: string;
}

/** A Redis command failed because Redis could not be reached; retry once it is back. */
export class RedisUnavailableError extends Error {
  override name = "RedisUnavailableError";
}

type Arg = string | number | Buffer;
type Run = (...args: Arg[]) => Promise<unknown>;
type ScriptClient = Redis & Record<string, Run>;

const SWEEP_LIMIT = 1000;
const FAILED_CONNECTION = /Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|Stream isn't writeable/;

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
  readonly kind = "redis";
  #client: ScriptClient;
  #sub: Redis;
  #events: RedisEvents;
  #clock: Clock;
  #retentionMs: number;
  #prefix: string;
  #where: string;
  #channels: { inputs: string; outputs: string };

  /** Starts connecting; commands wait for the connection. Prefer {@linkcode RedisBackend.connect}. */
  constructor(options: RedisBackendOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#retentionMs = options.retentionMs ?? 86_400_000;
    this.#prefix = options.keyPrefix ?? "nm:";
    this.#where = describeUrl(options.url);
    this.#channels = channelNames(this.#prefix);
    this.#client = new Redis(options.url, connectionOptions()) as ScriptClient;
    this.#sub = new Redis(options.url, connectionOptions());
    for (const [name, def] of Object.entries(SCRIPTS)) this.#client.defineCommand(name, def);
    this.#reportOutages(this.#client);
    this.#sub.on("error", () => {}); // the command connection reports outages
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
    return this.#run(async (r) => {
      let policy: string;
      try {
        policy = ((await r.config("GET", "maxmemory-policy")) as string[])[1];
      } catch (error) {
        return [`Cannot read maxmemory-policy from Redis at ${this.#where} (${message(error)}): ` +
          "make sure it is noeviction, or queued inputs may be silently lost."];
      }
      if (policy === "noeviction") return [];
      return [
        `WARNING: Redis at ${this.#where} has maxmemory-policy "${policy}": when memory fills ` +
        "up Redis will evict keys, which loses queued inputs, leases and results. Set it with " +
        "`redis-cli CONFIG SET maxmemory-policy noeviction` (and in redis.conf).",
      ];
    });
  }

  putBundle(hash: string, data: Uint8Array): Promise<void> {
    return this.#run(async (r) => void await r.set(this.#key("bundle:", hash), codec.toBuffer(data)));
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

  putApp(app: AppRecord, functions: FunctionRecord[]): Promise<void> {
    const fns = functions.flatMap((fn) => [fn.functionId, codec.encodeFunction(fn)]);
    const { stopped, ...rest } = app;
    return this.#run(async (r) =>
      void await r.nmPutApp(
        this.#key("apps"),
        this.#key("stopped"),
        this.#key("fns"),
        app.appId,
        JSON.stringify(rest),
        stopped ? "1" : "0",
        ...fns,
      )
    );
  }
  getApp(appId: string): Promise<AppRecord | undefined> {
    return this.#run(async (r) => {
      const [raw, stopped] = await Promise.all([
        r.hget(this.#key("apps"), appId),
        r.sismember(this.#key("stopped"), appId),
      ]);
      return raw === null ? undefined : { ...JSON.parse(raw), stopped: stopped === 1 };
    });
  }
  listApps(): Promise<AppRecord[]> {
    return this.#run(async (r) => {
      const [all, stopped] = await Promise.all([
        r.hgetall(this.#key("apps")),
        r.smembers(this.#key("stopped")),
      ]);
      const isStopped = new Set(stopped);
      return Object.entries(all).map(([id, raw]) => ({
        ...JSON.parse(raw),
        stopped: isStopped.has(id),
      }));
    });
  }
  stopApp(appId: string): Promise<void> {
    const k = this.#queueKeys();
    return this.#run(async (r) =>
      void await r.nmStopApp(
        this.#key("apps"),
        this.#key("stopped"),
        k[0],
        k[1],
        k[2],
        k[4],
        appId,
      )
    );
  }
  getFunction(functionId: string): Promise<FunctionRecord | undefined> {
    return this.#run(async (r) => {
      const raw = await r.hgetBuffer(this.#key("fns"), functionId);
      return raw ? codec.decodeFunction(raw) : undefined;
    });
  }

  createCall(call: CallRecord): Promise<void> {
    const { callId, functionId, appId, createdMs, total } = call;
    return this.#run(async (r) =>
      void await r.nmCreateCall(
        this.#key("call:", callId),
        this.#key("calls"),
        callId,
        this.#clock.now(),
        this.#retentionMs,
        functionId,
        appId,
        createdMs,
        total ?? "",
      )
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
  setCallTotal(callId: string, total: number): Promise<void> {
    return this.#run(async (r) =>
      void await r.nmSetCallTotal(
        this.#key("call:", callId),
        total,
        this.#channels.outputs,
        callId,
      )
    );
  }

  enqueue(inputs: InputRecord[]): Promise<void> {
    if (inputs.length === 0) return Promise.resolve();
    const args = inputs.flatMap((i) => [i.inputId, i.functionId, codec.encodeInput(i)]);
    const [inputsKey, queue, , , depth] = this.#queueKeys();
    return this.#run(async (r) =>
      void await r.nmEnqueue(inputsKey, queue, depth, this.#channels.inputs, ...args)
    );
  }

  lease(workerId: string, max: number, leaseMs: number): Promise<Lease[]> {
    if (max <= 0) return Promise.resolve([]);
    const expiresMs = this.#clock.now() + leaseMs;
    // The nonce keeps tokens unique without a Redis counter; it never contains ":".
    const prefix = `${workerId}:${crypto.randomUUID()}.`;
    return this.#run(async (r) => {
      const out = await r.nmLeaseBuffer(...this.#queueKeys(), max, expiresMs, prefix) as Buffer[];
      const leases: Lease[] = [];
      for (let i = 0; i < out.length; i += 2) {
        const input = codec.decodeInput(out[i + 1]);
        leases.push({ input, leaseToken: out[i].toString(), workerId, expiresMs });
      }
      return leases;
    });
  }

  renew(workerId: string, inputIds: string[], leaseMs: number): Promise<string[]> {
    if (inputIds.length === 0) return Promise.resolve([]);
    const expiresMs = this.#clock.now() + leaseMs;
    const [, , leases, expiries] = this.#queueKeys();
    return this.#run(async (r) =>
      await r.nmRenew(leases, expiries, workerId, expiresMs, ...inputIds) as string[]
    );
  }

  complete(completions: Completion[]): Promise<boolean[]> {
    if (completions.length === 0) return Promise.resolve([]);
    const args: Arg[] = [];
    for (const { inputId, leaseToken, output } of completions) {
      checkIndex(output.idx);
      const token = leaseToken === null ? "" : `=${leaseToken}`;
      args.push(inputId, token, output.idx, codec.encodeOutput(output));
    }
    const [inputs, , leases, expiries, depth] = this.#queueKeys();
    const keys = [inputs, leases, expiries, depth, this.#key("calls")];
    const argv = [this.#prefix, this.#clock.now(), this.#retentionMs, this.#channels.outputs];
    return this.#run(async (r) => {
      const result = await r.nmComplete(...keys, ...argv, ...args) as number[];
      return result.map((ok) => ok === 1);
    });
  }

  requeue(
    items: { inputId: string; leaseToken: string }[],
    maxInfraAttempts: number,
  ): Promise<RequeueReport> {
    if (items.length === 0) return Promise.resolve({ requeued: 0, exhausted: [] });
    const pairs = items.flatMap((i) => [i.inputId, i.leaseToken]);
    return this.#run(async (r) =>
      toReport(
        await r.nmRequeueBuffer(
          ...this.#queueKeys(),
          maxInfraAttempts,
          this.#channels.inputs,
          ...pairs,
        ) as ScriptReport,
      )
    );
  }

  releaseWorker(workerId: string, maxInfraAttempts: number): Promise<RequeueReport> {
    return this.#run(async (r) =>
      toReport(
        await r.nmReleaseWorkerBuffer(
          ...this.#queueKeys(),
          maxInfraAttempts,
          this.#channels.inputs,
          workerId,
        ) as ScriptReport,
      )
    );
  }

  sweep(maxInfraAttempts: number): Promise<RequeueReport> {
    const now = this.#clock.now();
    const keys = [...this.#queueKeys(), this.#key("calls")];
    return this.#run(async (r) => {
      const report: RequeueReport = { requeued: 0, exhausted: [] };
      for (let more = true; more;) {
        const [requeued, again, ...exhausted] = await r.nmSweepBuffer(
          ...keys,
          maxInfraAttempts,
          this.#channels.inputs,
          now,
          now - this.#retentionMs,
          this.#prefix,
          SWEEP_LIMIT,
        ) as [number, number, ...Buffer[]];
        report.requeued += requeued;
        report.exhausted.push(...exhausted.map(codec.decodeInput));
        more = again === 1;
      }
      return report;
    });
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
      async (r) => (await r.llen(this.#queueKeys()[1])) > 0,
      signal,
    );
  }

  publishLogs(appId: string, data: Uint8Array): Promise<void> {
    const channel = this.#key("logs:", appId);
    return this.#run(async (r) => void await r.publish(channel, codec.toBuffer(data)));
  }
  subscribeLogs(appId: string, onLogs: (data: Uint8Array) => void): Promise<() => void> {
    return this.#run(() => this.#events.subscribeLogs(appId, onLogs));
  }

  queueDepth(): Promise<Record<string, number>> {
    return this.#run(async (r) => {
      const raw = await r.hgetall(this.#key("depth"));
      const depth: Record<string, number> = {};
      for (const [fn, n] of Object.entries(raw)) if (+n > 0) depth[fn] = +n;
      return depth;
    });
  }
  heartbeatWorker(worker: WorkerRecord): Promise<void> {
    const json = JSON.stringify(worker);
    return this.#run(async (r) => void await r.hset(this.#key("workers"), worker.workerId, json));
  }
  removeWorker(workerId: string): Promise<void> {
    return this.#run(async (r) => void await r.hdel(this.#key("workers"), workerId));
  }
  listWorkers(): Promise<WorkerRecord[]> {
    return this.#run(async (r) =>
      (await r.hvals(this.#key("workers"))).map((raw) => JSON.parse(raw))
    );
  }

  /** Ends pending waits and closes both connections. */
  async close(): Promise<void> {
    this.#events.close();
    await Promise.all([disconnect(this.#client), disconnect(this.#sub)]);
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

  async #run<T>(fn: (r: ScriptClient) => Promise<T>): Promise<T> {
    try {
      return await fn(this.#client);
    } catch (error) {
      if (!isConnectionFailure(error)) throw error;
      throw new RedisUnavailableError(
        `Redis at ${this.#where} is unreachable (${message(error)}): check that it is running ` +
          "and that --redis points at it; nano-modal reconnects when it is back.",
        { cause: error },
      );
    }
  }

  #reportOutages(client: Redis): void {
    let down = false;
    client.on("error", (error: Error) => {
      if (down) return;
      down = true;
      console.error(`nano-modal: lost Redis at ${this.#where} (${error.message}); reconnecting`);
    });
    client.on("ready", () => {
      if (down) console.error(`nano-modal: reconnected to Redis at ${this.#where}`);
      down = false;
    });
  }

  #key(kind: string, id = ""): string {
    return this.#prefix + kind + id;
  }

  /** Keys 1-5 of the queue scripts: inputs, queue, leases, expiries, depth. */
  #queueKeys(): [string, string, string, string, string] {
    return [this.#key("in"), this.#key("q"), this.#key("lease"), this.#key("exp"), this.#key("depth")];
  }
}

type ScriptReport = [number, ...Buffer[]];

function toReport([requeued, ...exhausted]: ScriptReport): RequeueReport {
  return { requeued, exhausted: exhausted.map(codec.decodeInput) };
}

function connectionOptions(): RedisOptions {
  return {
    // Fail commands after a couple of reconnect attempts instead of queueing forever.
    maxRetriesPerRequest: 2,
    retryStrategy: (times: number) => Math.min(times * 100, 1_000),
    connectTimeout: 5_000,
  };
}

/** The done-bitmap takes the index as a bit offset, which Redis caps at 2^32. */
function checkIndex(idx: number): void {
  if (!Number.isSafeInteger(idx) || idx < 0 || idx >= 2 ** 32) {
    throw new RangeError(`Cannot record output index ${idx}: expected an integer in [0, 2^32)`);
  }
}

function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === "MaxRetriesPerRequestError" || FAILED_CONNECTION.test(error.message);
}

async function disconnect(conn: Redis): Promise<void> {
  if (conn.status === "ready") {
    try {
      await conn.quit();
      return;
    } catch {
      // fall through: drop the socket instead
    }
  }
  conn.disconnect();
}

/** Host and port only: the URL may carry a password. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 6379}`;
  } catch {
    return "(invalid URL)";
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
