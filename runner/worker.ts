/**
 * The worker: holds a `Work` stream to a control plane, takes inputs, runs
 * them in warm sandboxes through a {@linkcode Runner}, applies timeouts,
 * memory limits and user retries, and streams results and logs back.
 * Reconnects when the control plane goes away; drains on request.
 * @module
 */
import { Code, ConnectError, create, createClient, toBinary } from "../proto/mod.ts";
import {
  type LogLine,
  LogLineSchema,
  type Output,
  OutputSchema,
  type WorkerMessage,
  WorkerMessageSchema,
  WorkerService,
  type WorkInput,
  type WorkResult,
  WorkResultSchema,
} from "../proto/messages.ts";
import type { Transport } from "../proto/mod.ts";
import { createRpcTransport, type RpcTransport } from "../proto/transport.ts";
import { AsyncQueue } from "../proto/async_queue.ts";
import { entrypointFile } from "./_entrypoint_file.ts";
import { Deadlines, delay, execute, loadFailure } from "./_execute.ts";
import { FunctionCache, type FunctionInfo } from "./_functions.ts";
import { nestedHandler } from "./_nested.ts";
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
  readonly #functions: FunctionCache;
  readonly #inflight = new Map<string, WorkInput>();
  readonly #log: (line: string) => void;
  /** The bundled entrypoint, built when the worker starts. */
  readonly #entrypointReady = Promise.withResolvers<string>();
  #out?: AsyncQueue<WorkerMessage>;
  #draining = false;
  #stopped = false;
  #abort = new AbortController();
  #pendingResults: WorkResult[] = [];
  readonly #deadlines = new Deadlines();
  /** Running inputs by id, to stop one whose call was cancelled. */
  readonly #cancels = new Map<string, AbortController>();
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
    this.#functions = new FunctionCache({
      client: this.#client,
      runner: options.runner,
      cacheDir: options.cacheDir,
      entrypoint: this.#entrypointReady.promise,
      onOutput: (appId, functionName, fd, text) => {
        this.#pendingLogs.push(
          create(LogLineSchema, { appId, functionName, fd, text, timeMs: Date.now() }),
        );
        this.#scheduleFlush();
      },
      onNested: nestedHandler({
        client: this.#client,
        workerId: this.id,
        leaseOf: (inputId) => this.#inflight.get(inputId)?.leaseToken,
      }),
    });
  }

  /** Serves until {@linkcode Worker.drain} or {@linkcode Worker.stop}, reconnecting as needed. */
  async run(): Promise<void> {
    await Deno.mkdir(`${this.#options.cacheDir}/bundles`, { recursive: true });
    await Deno.mkdir(`${this.#options.cacheDir}/sandboxes`, { recursive: true });
    try {
      this.#entrypointReady.resolve(await entrypointFile(this.#options.cacheDir));
    } catch (err) {
      this.#entrypointReady.reject(err);
      throw err;
    }
    await this.#options.runner.cleanup();
    const scaler = setInterval(() => this.#functions.scaleDown(), 1_000);
    this.#deadlines.start();
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
      this.#deadlines.stop();
      await this.#functions.close();
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
            this.#functions.learn(id, described);
          }
          for (const input of cmd.msg.value.inputs) this.#accept(input);
        } else if (cmd.msg.case === "ack") {
          const confirmed = cmd.msg.value.results - this.#ackedOnStream;
          this.#ackedOnStream = cmd.msg.value.results;
          this.#unacked.splice(0, confirmed);
        } else if (cmd.msg.case === "appStopped") {
          const { appId, drain } = cmd.msg.value;
          if (drain) this.#functions.appDrained(appId);
          else this.#functions.appStopped(appId);
        } else if (cmd.msg.case === "cancel") {
          for (const id of cmd.msg.value.inputIds) this.#cancels.get(id)?.abort();
        }
      }
      if (first) onConnected();
    } finally {
      clearInterval(heartbeat);
      out.close();
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
      fn = await this.#functions.get(input.functionId);
    } catch (err) {
      return result(loadFailure(input.idx, err));
    }
    const cancel = new AbortController();
    this.#cancels.set(input.inputId, cancel);
    const onCancel = () => this.#deadlines.expireNow(input.inputId);
    cancel.signal.addEventListener("abort", onCancel);
    const signal = AbortSignal.any([this.#abort.signal, cancel.signal]);
    let outcome;
    try {
      outcome = await execute(fn, input, this.#deadlines, signal);
    } finally {
      this.#cancels.delete(input.inputId);
    }
    if (outcome !== "requeue") return result(outcome);
    return create(WorkResultSchema, {
      inputId: input.inputId,
      leaseToken: input.leaseToken,
      requeue: true,
    });
  }
}
