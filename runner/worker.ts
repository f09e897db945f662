/**
 * The worker: holds a `Work` stream to a control plane, takes inputs, runs
 * them in warm sandboxes through a {@linkcode Runner}, applies timeouts,
 * memory limits and user retries, and streams results and logs back.
 * Reconnects when the control plane goes away; drains on request.
 * @module
 */
import { Code, ConnectError, createClient } from "../proto/deps.ts";
import { create, toBinary } from "../proto/deps.ts";
import {
  type FunctionDef,
  type GetFunctionResponse,
  type LogLine,
  LogLineSchema,
  type Output,
  OutputSchema,
  ResultStatus,
  type WorkerMessage,
  WorkerMessageSchema,
  WorkerService,
  type WorkInput,
  type WorkResult,
  WorkResultSchema,
} from "../proto/gen/nano_modal_pb.ts";
import { createRpcTransport, type RpcTransport } from "../proto/transport.ts";
import type { Transport } from "../proto/deps.ts";
import { AsyncQueue } from "../proto/async_queue.ts";
import { entrypointFile } from "./_entrypoint_file.ts";
import { FunctionPool } from "./_pool.ts";
import type { WarmSandbox } from "./_warm_sandbox.ts";
import {
  ImageBuildError,
  SandboxDiedError,
  SandboxInitError,
  SandboxStartError,
} from "./errors.ts";
import type { Runner } from "./runner.ts";

/** Options for {@linkcode Worker}. */
export interface WorkerOptions {
  serverUrl: string;
  /** Reach the server through this transport instead of `serverUrl` (embedded workers). */
  transport?: Transport;
  token?: string;
  runner: Runner;
  /** Inputs this worker holds at once (running or waiting for a sandbox). @default 32 */
  capacity?: number;
  /** Where bundles, the entrypoint and sandbox sockets live. */
  cacheDir: string;
  workerId?: string;
  /** Where the worker reports its own state. @default console.error */
  log?: (line: string) => void;
}

interface FunctionInfo {
  appId: string;
  def: FunctionDef;
  pool: FunctionPool;
}

/**
 * A worker process's engine.
 *
 * @example
 * ```ts ignore
 * import { DenoRunner, Worker } from "./mod.ts";
 * const worker = new Worker({
 *   serverUrl: "http://127.0.0.1:50051",
 *   runner: new DenoRunner({ denoDir: "/tmp/nm/deno" }),
 *   cacheDir: "/tmp/nm",
 * });
 * await worker.run();
 * ```
 */
export class Worker {
  readonly id: string;
  readonly #options: WorkerOptions;
  readonly #capacity: number;
  readonly #rpc: RpcTransport;
  readonly #client: ReturnType<typeof createClient<typeof WorkerService>>;
  readonly #functions = new Map<string, Promise<FunctionInfo>>();
  readonly #bundles = new Map<string, Promise<string>>();
  readonly #inflight = new Map<string, WorkInput>();
  readonly #log: (line: string) => void;
  #entrypoint?: Promise<string>;
  #out?: AsyncQueue<WorkerMessage>;
  #draining = false;
  #stopped = false;
  #abort = new AbortController();
  #pendingResults: WorkResult[] = [];
  /** Running attempts by input id: when each times out, and how. One timer checks them all. */
  readonly #deadlines = new Map<string, { atMs: number; expire: () => void }>();
  /** Results sent on the current stream that the server has not confirmed yet. */
  #unacked: WorkResult[] = [];
  #ackedOnStream = 0;
  #pendingLogs: LogLine[] = [];
  #pendingCredit = 0;
  #flushScheduled = false;
  #idle = Promise.withResolvers<void>();

  constructor(options: WorkerOptions) {
    this.#options = options;
    this.#capacity = options.capacity ?? 32;
    this.id = options.workerId ??
      `wk-${Deno.hostname().replace(/[^\w.-]/g, "")}-${Deno.pid}-${
        crypto.randomUUID().slice(0, 8)
      }`;
    this.#rpc = options.transport
      ? { transport: options.transport, close: () => {} }
      : createRpcTransport({ baseUrl: options.serverUrl, token: options.token });
    this.#client = createClient(WorkerService, this.#rpc.transport);
    this.#log = options.log ?? ((line) => console.error(line));
  }

  /** Serves until {@linkcode Worker.drain} or {@linkcode Worker.stop}, reconnecting as needed. */
  async run(): Promise<void> {
    await Deno.mkdir(`${this.#options.cacheDir}/bundles`, { recursive: true });
    await Deno.mkdir(`${this.#options.cacheDir}/sandboxes`, { recursive: true });
    this.#entrypoint = entrypointFile(this.#options.cacheDir);
    await this.#entrypoint;
    await this.#options.runner.cleanup();
    const scaler = setInterval(() => this.#scaleDown(), 1_000);
    const timeouts = setInterval(() => this.#expireDeadlines(), TIMEOUT_CHECK_MS);
    let backoffMs = 250;
    let announcedLoss = false;
    try {
      while (!this.#stopped) {
        const started = Date.now();
        try {
          await this.#session(() => {
            if (announcedLoss) {
              this.#log(`worker ${this.id}: reconnected to ${this.#options.serverUrl}`);
            }
            announcedLoss = false;
            backoffMs = 250;
          });
          if (this.#draining || this.#stopped) break;
        } catch (err) {
          if (this.#stopped) break;
          if (err instanceof ConnectError && err.code === Code.Unauthenticated) {
            throw new Error(
              `The server at ${this.#options.serverUrl} refused the worker's token: set NANO_MODAL_TOKEN to the server's token`,
            );
          }
          if (!announcedLoss) {
            this.#log(
              `worker ${this.id}: lost the server at ${this.#options.serverUrl} (${
                (err as Error).message
              }); retrying with backoff`,
            );
            announcedLoss = true;
          }
        }
        if (Date.now() - started > 10_000) backoffMs = 250;
        await delay(backoffMs, this.#abort.signal);
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
    } finally {
      clearInterval(scaler);
      clearInterval(timeouts);
      await this.#closePools();
      this.#rpc.close();
    }
  }

  /** Stops taking inputs, finishes those in hand, then ends {@linkcode Worker.run}. */
  async drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    this.#out?.push(create(WorkerMessageSchema, { msg: { case: "drain", value: {} } }));
    if (this.#inflight.size > 0) await this.#idle.promise;
    await this.#flush();
    // Leave once the server has stored every result (or after a grace period).
    for (
      let waited = 0;
      (this.#unacked.length || this.#pendingResults.length) && waited < 10_000;
      waited += 20
    ) {
      await delay(20);
    }
    this.#out?.close();
    this.#stopped = true;
    this.#abort.abort();
  }

  /** Stops at once; inputs in hand are run again elsewhere. */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    this.#out?.close();
  }

  async #session(onConnected: () => void): Promise<void> {
    const out = new AsyncQueue<WorkerMessage>();
    this.#out = out;
    out.push(create(WorkerMessageSchema, {
      msg: {
        case: "hello",
        value: {
          workerId: this.id,
          capacity: this.#capacity,
          runner: this.#options.runner.name,
          hostname: Deno.hostname(),
        },
      },
    }));
    // Inputs taken through an earlier stream still run; their leases stay valid
    // (on a shared backend) and their results go out on this stream.
    out.push(create(WorkerMessageSchema, {
      msg: { case: "credit", value: { count: Math.max(0, this.#capacity - this.#inflight.size) } },
    }));
    this.#pendingCredit = 0;
    // Results the last stream may have lost go out again; duplicates are ignored.
    this.#pendingResults = [...this.#unacked, ...this.#pendingResults];
    this.#unacked = [];
    this.#ackedOnStream = 0;
    this.#flush();
    const heartbeat = setInterval(() => this.#heartbeat(), 5_000);
    try {
      let first = true;
      for await (const cmd of this.#client.work(out, { signal: this.#abort.signal })) {
        if (first) {
          first = false;
          onConnected();
        }
        if (cmd.msg.case === "assign") {
          for (const [id, described] of Object.entries(cmd.msg.value.functions)) {
            if (!this.#functions.has(id)) this.#remember(id, this.#loadFunction(id, described));
          }
          for (const input of cmd.msg.value.inputs) this.#accept(input);
        } else if (cmd.msg.case === "ack") {
          const confirmed = cmd.msg.value.results - this.#ackedOnStream;
          this.#ackedOnStream = cmd.msg.value.results;
          this.#unacked.splice(0, confirmed);
        } else if (cmd.msg.case === "appStopped") {
          this.#appStopped(cmd.msg.value.appId);
        }
      }
      if (first) onConnected();
    } finally {
      clearInterval(heartbeat);
      out.close();
    }
  }

  #expireDeadlines(): void {
    const now = performance.now();
    for (const [id, deadline] of this.#deadlines) {
      if (deadline.atMs > now) continue;
      this.#deadlines.delete(id);
      deadline.expire();
    }
  }

  #heartbeat(): void {
    const ids = [...this.#inflight.keys()];
    this.#out?.push(create(WorkerMessageSchema, {
      msg: { case: "heartbeat", value: { inputIds: ids } },
    }));
  }

  #accept(input: WorkInput): void {
    this.#inflight.set(input.inputId, input);
    this.#execute(input).then((result) => {
      this.#inflight.delete(input.inputId);
      this.#pendingResults.push(result);
      this.#pendingCredit++;
      this.#scheduleFlush();
      if (this.#inflight.size === 0) {
        this.#idle.resolve();
        this.#idle = Promise.withResolvers();
      }
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // A macrotask lets results that finish in the same tick share one message.
    setImmediate(() => this.#flush());
  }

  #flush(): Promise<void> {
    this.#flushScheduled = false;
    const out = this.#out;
    // Between streams, results wait for the next one.
    if (!out || out.closed) return Promise.resolve();
    // Logs first: a caller sees what a function printed before its result.
    if (this.#pendingLogs.length) {
      out.push(create(WorkerMessageSchema, {
        msg: { case: "logs", value: { lines: this.#pendingLogs.splice(0) } },
      }));
    }
    if (this.#pendingResults.length) {
      const results = this.#pendingResults.splice(0);
      this.#unacked.push(...results);
      out.push(create(WorkerMessageSchema, { msg: { case: "results", value: { results } } }));
    }
    if (this.#pendingCredit > 0 && !this.#draining) {
      out.push(create(WorkerMessageSchema, {
        msg: { case: "credit", value: { count: this.#pendingCredit } },
      }));
    }
    this.#pendingCredit = 0;
    return Promise.resolve();
  }

  async #execute(input: WorkInput): Promise<WorkResult> {
    const result = (output: Output) =>
      create(WorkResultSchema, {
        inputId: input.inputId,
        leaseToken: input.leaseToken,
        output: toBinary(OutputSchema, output),
        idx: output.idx,
      });
    let fn: FunctionInfo;
    try {
      fn = await this.#function(input.functionId);
    } catch (err) {
      if (err instanceof ImageBuildError) {
        return result(failure(input.idx, ResultStatus.FAILURE, err.name, err.message));
      }
      return result(
        failure(
          input.idx,
          ResultStatus.INTERNAL_FAILURE,
          "InternalFailure",
          `Cannot load the function: ${(err as Error).message}`,
        ),
      );
    }
    const policy = fn.def.retries;
    for (let attempt = 0;; attempt++) {
      const outcome = await this.#attempt(fn, input);
      if (outcome === "requeue") {
        return create(WorkResultSchema, {
          inputId: input.inputId,
          leaseToken: input.leaseToken,
          requeue: true,
        });
      }
      const retryable = outcome.status === ResultStatus.FAILURE ||
        outcome.status === ResultStatus.TIMEOUT;
      if (!retryable || !policy || attempt >= policy.maxRetries || this.#stopped) {
        return result(outcome);
      }
      const delayMs = Math.min(
        policy.initialDelayMs * policy.backoffCoefficient ** attempt,
        policy.maxDelayMs,
      );
      await delay(delayMs, this.#abort.signal);
    }
  }

  async #attempt(fn: FunctionInfo, input: WorkInput): Promise<Output | "requeue"> {
    const def = fn.def;
    let timedOut = false;
    try {
      const done = await fn.pool.run(input.inputId, input.args, (sandbox: WarmSandbox) => {
        // The clock starts once a sandbox has the input: start-up is not the function's time.
        this.#deadlines.set(input.inputId, {
          atMs: performance.now() + def.timeoutMs,
          expire: () => {
            timedOut = true;
            fn.pool.kill(sandbox);
          },
        });
      });
      if (done.ok) {
        return create(OutputSchema, {
          idx: input.idx,
          status: ResultStatus.SUCCESS,
          payload: done.payload,
          durationMs: done.ms,
        });
      }
      const e = done.error!;
      return create(OutputSchema, {
        idx: input.idx,
        status: ResultStatus.FAILURE,
        error: { name: e.name, message: e.message, stack: e.stack, value: e.value },
        durationMs: done.ms,
      });
    } catch (err) {
      if (timedOut) {
        return failure(
          input.idx,
          ResultStatus.TIMEOUT,
          "FunctionTimeoutError",
          `${def.name} timed out after ${def.timeoutMs} ms: raise timeoutMs in app.function({ timeoutMs }) if it needs longer`,
        );
      }
      if (err instanceof SandboxDiedError && err.oom) {
        return failure(
          input.idx,
          ResultStatus.FAILURE,
          "OutOfMemoryError",
          `${def.name} ran out of memory (limit ${def.memoryMib} MiB): raise memoryMiB in app.function({ memoryMiB })`,
        );
      }
      if (err instanceof SandboxInitError) {
        return failure(
          input.idx,
          ResultStatus.FAILURE,
          err.remoteName,
          `Loading the app failed: ${err.message}`,
          err.remoteStack,
        );
      }
      if (err instanceof SandboxStartError) {
        return failure(
          input.idx,
          ResultStatus.INTERNAL_FAILURE,
          "InternalFailure",
          `The sandbox for ${def.name} could not start: ${err.message}`,
        );
      }
      if (err instanceof SandboxDiedError) return "requeue";
      return failure(
        input.idx,
        ResultStatus.INTERNAL_FAILURE,
        "InternalFailure",
        (err as Error).message,
      );
    } finally {
      this.#deadlines.delete(input.inputId);
    }
  }

  #function(functionId: string): Promise<FunctionInfo> {
    return this.#functions.get(functionId) ??
      this.#remember(functionId, this.#loadFunction(functionId));
  }

  #remember(functionId: string, info: Promise<FunctionInfo>): Promise<FunctionInfo> {
    this.#functions.set(functionId, info);
    info.catch(() => this.#functions.delete(functionId));
    return info;
  }

  /** Prepares a function: its bundle, its image, a pool; `described` saves asking the server. */
  async #loadFunction(functionId: string, described?: GetFunctionResponse): Promise<FunctionInfo> {
    const res = described ?? await this.#client.getFunction({ functionId });
    const def = res.def!;
    const bundlePath = await this.#bundle(res.bundleHash);
    const log = (fd: 1 | 2 | 3, text: string) => {
      this.#pendingLogs.push(
        create(LogLineSchema, {
          appId: res.appId,
          functionName: def.name,
          fd,
          text,
          timeMs: Date.now(),
        }),
      );
      this.#scheduleFlush();
    };
    await this.#options.runner.prepare(def, (line) => log(3, line), (hash) => this.#bundle(hash));
    const pool = new FunctionPool(this.#options.runner, {
      functionId,
      appId: res.appId,
      appName: res.appName,
      def,
      bundlePath,
      entrypointPath: await this.#entrypoint!,
      rootDir: `${this.#options.cacheDir}/sandboxes`,
      onOutput: log,
    });
    return { appId: res.appId, def, pool };
  }

  #bundle(hash: string): Promise<string> {
    let path = this.#bundles.get(hash);
    if (!path) {
      path = (async () => {
        const file = `${this.#options.cacheDir}/bundles/${hash}.js`;
        try {
          await Deno.stat(file);
          return file;
        } catch {
          // Not cached yet.
        }
        const { data } = await this.#client.getBundle({ hash });
        const tmp = `${file}.${crypto.randomUUID()}.tmp`;
        await Deno.writeFile(tmp, data);
        await Deno.rename(tmp, file);
        return file;
      })();
      this.#bundles.set(hash, path);
      path.catch(() => this.#bundles.delete(hash));
    }
    return path;
  }

  async #appStopped(appId: string): Promise<void> {
    for (const [id, info] of this.#functions) {
      const fn = await info.catch(() => undefined);
      if (fn?.appId === appId) {
        this.#functions.delete(id);
        await fn.pool.close();
      }
    }
  }

  async #scaleDown(): Promise<void> {
    for (const info of this.#functions.values()) {
      const fn = await info.catch(() => undefined);
      await fn?.pool.scaleDown();
    }
  }

  async #closePools(): Promise<void> {
    const infos = await Promise.allSettled(this.#functions.values());
    this.#functions.clear();
    await Promise.allSettled(
      infos.map((r) => r.status === "fulfilled" ? r.value.pool.close() : undefined),
    );
  }
}

/** How often running attempts are checked against their timeouts. */
const TIMEOUT_CHECK_MS = 25;

function failure(
  idx: number,
  status: ResultStatus,
  name: string,
  message: string,
  stack = "",
): Output {
  return create(OutputSchema, { idx, status, error: { name, message, stack } });
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
