/**
 * The worker: holds a `Work` stream to a control plane, takes inputs, runs
 * them in warm sandboxes through a {@linkcode Runner}, applies timeouts,
 * memory limits and user retries, and streams results and logs back.
 * Reconnects when the control plane goes away; drains on request.
 * @module
 */
import { type Client, Code, ConnectError, create, createClient } from "../proto/deps.ts";
import { type Clock, systemClock } from "../proto/clock.ts";
import {
  LogLineSchema,
  WorkerService,
  type WorkInput,
  type WorkResult,
} from "../proto/messages.ts";
import { createRpcTransport, type RpcTransport } from "../proto/transport.ts";
import { Deadlines } from "./_deadlines.ts";
import { nestedHandler } from "./_nested.ts";
import { every } from "./_every.ts";
import { attempt, execute, loadFailure, type Outcome } from "./_execute.ts";
import { FunctionCache, type FunctionInfo } from "./_functions.ts";
import { withState } from "./_state_runner.ts";
import { redact } from "./_redact.ts";
import { WorkStream } from "./_work_stream.ts";
import { workResult } from "./_work_result.ts";
import type { WorkerOptions } from "./worker_options.ts";
import { prepareWorker } from "./_worker_start.ts";
import { heartbeatFigures, WorkerFigures } from "./_figures.ts";
import { workerResources } from "./_resources.ts";
import { WebDirect } from "./_web_direct.ts";
import { Allowances } from "./_allowances.ts";
import { Cancels } from "./_cancels.ts";
import { pruneCache, touchCached } from "../proto/cache_prune.ts";

export type { WorkerOptions };

/** How often pools stop sandboxes idle past their scale-down window. */
export const SCALE_DOWN_EVERY_MS = 1_000;
/**
 * How often a worker marks the cached files it uses as used and lets the
 * cache dir be pruned (which happens at most daily, proto/cache_prune.ts).
 */
export const CACHE_UPKEEP_EVERY_MS = 600_000;
/** First wait before reconnecting to a lost server; doubles up to {@linkcode MAX_BACKOFF_MS}. */
export const FIRST_BACKOFF_MS = 250;
/** Longest wait between reconnection attempts. */
export const MAX_BACKOFF_MS = 5_000;
/** A stream that lasted this long was healthy: the next loss starts the backoff afresh. */
const HEALTHY_STREAM_MS = 10_000;
/** How long a draining worker waits for the server to store its last results. */
export const DRAIN_GRACE_MS = 10_000;

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
  /** This worker's id, as the control plane lists it. */
  readonly id: string;
  readonly #options: WorkerOptions;
  readonly #clock: Clock;
  readonly #rpc: RpcTransport;
  readonly #functions: FunctionCache;
  readonly #stream: WorkStream;
  readonly #web: WebDirect;
  readonly #deadlines: Deadlines;
  readonly #inflight = new Map<string, WorkInput>();
  /** Running inputs by id, to stop one whose call was cancelled. */
  readonly #cancels = new Cancels();
  readonly #log: (line: string) => void;
  readonly #figures: WorkerFigures;
  readonly #share = new Allowances();
  /** The bundled entrypoint, built when the worker starts. */
  readonly #entrypointReady = Promise.withResolvers<string>();
  #draining = false;
  #stopped = false;
  #abort = new AbortController();
  #idle = Promise.withResolvers<void>();

  /** A worker for `options.serverUrl`; it connects on {@linkcode Worker.run}. */
  constructor(options: WorkerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.id = options.workerId ??
      `wk-${Deno.hostname().replace(/[^\w.-]/g, "")}-${Deno.pid}-${
        crypto.randomUUID().slice(0, 8)
      }`;
    this.#rpc = options.transport
      ? { transport: options.transport, openStreams: () => {}, close: () => {} }
      : createRpcTransport({ baseUrl: options.serverUrl, token: options.token });
    const client: Client<typeof WorkerService> = createClient(WorkerService, this.#rpc.transport);
    const log = options.log ?? ((line) => console.error(line));
    this.#log = (line) => log(redact(line));
    this.#figures = new WorkerFigures(options.events);
    this.#deadlines = new Deadlines(this.#clock);
    this.#stream = new WorkStream({
      client,
      clock: this.#clock,
      hello: {
        workerId: this.id,
        capacity: options.capacity ?? 32,
        runner: options.runner.name,
        hostname: Deno.hostname(),
      },
      inflight: () => this.#inflight,
      pipelined: () => this.#functions.pipelined(),
      figures: () => ({
        ...heartbeatFigures(this.#figures, this.#functions),
        ...this.#share.figures(this.#functions),
      }),
    });
    this.#functions = new FunctionCache({
      client,
      runner: withState(options.runner, {
        transport: this.#rpc.transport,
        cacheDir: options.cacheDir,
      }),
      clock: this.#clock,
      cacheDir: options.cacheDir,
      entrypoint: this.#entrypointReady.promise,
      figures: this.#figures,
      resources: workerResources(options.resources),
      share: this.#share,
      onOutput: (appId, functionName, fd, text, inputId) => {
        const timeMs = this.#clock.now();
        const callId = inputId?.split(":")[0] ?? "";
        this.#stream.sendLog(
          create(LogLineSchema, { appId, functionName, fd, text, timeMs, callId }),
        );
      },
      onNested: nestedHandler({
        client,
        workerId: this.id,
        leaseOf: (inputId) => this.#inflight.get(inputId)?.leaseToken,
      }),
    });
    this.#web = new WebDirect(client, {
      functions: this.#functions,
      clock: this.#clock,
      workerId: this.id,
    });
  }

  /** Serves until {@linkcode Worker.drain} or {@linkcode Worker.stop}, reconnecting as needed. */
  async run(): Promise<void> {
    await Deno.mkdir(`${this.#options.cacheDir}/bundles`, { recursive: true });
    await Deno.mkdir(`${this.#options.cacheDir}/sandboxes`, { recursive: true });
    let failed: unknown;
    // Served at once: the entrypoint is built and leftovers cleared meanwhile.
    prepareWorker(this.#options, this.#entrypointReady).catch((err) => {
      failed = err;
      this.stop();
    });
    const stopScaler = every(this.#clock, {
      periodMs: SCALE_DOWN_EVERY_MS,
      fn: () => this.#functions.scaleDown(),
    });
    const stopUpkeep = every(this.#clock, {
      periodMs: CACHE_UPKEEP_EVERY_MS,
      fn: () => this.#cacheUpkeep(),
    });
    this.#web.run(this.#abort.signal);
    // A sandbox kept ready (a deno process, a docker container), for the next new app's first.
    const stopSpare = !this.#options.spare ? undefined : this.#options.runner.keepSpare?.({
      cacheDir: this.#options.cacheDir,
      // Its spares may load ahead the SDK this host's `nano-modal run` builds, never a client's.
      preloadSdk: "built-here",
      // A spare taken is replaced once the worker's inputs are done, not in the middle of them.
      busy: () => this.#inflight.size > 0,
    });
    try {
      await this.#serve();
    } finally {
      await stopSpare?.();
      stopScaler();
      stopUpkeep();
      this.#deadlines.stop();
      await this.#functions.close();
      this.#rpc.close();
    }
    if (failed !== undefined) throw failed;
  }

  /**
   * Marks the bundles and the entrypoint this worker's sandboxes start from as
   * used (a deployed function may run for weeks on one bundle), then prunes the
   * cache dir if it is due.
   */
  async #cacheUpkeep(): Promise<void> {
    const entrypoint = await this.#entrypointReady.promise.catch(() => undefined);
    const inUse = [...this.#functions.bundlePaths(), ...(entrypoint ? [entrypoint] : [])];
    for (const path of inUse) await touchCached(path);
    await pruneCache(this.#options.cacheDir);
  }

  /** Stops taking inputs, finishes those in hand, then ends {@linkcode Worker.run}. */
  async drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    this.#stream.drain();
    await Promise.all([this.#web.drain(), this.#inflight.size > 0 && this.#idle.promise]);
    // Exit hooks (a class's @exit) run while the stream still carries their output.
    await this.#functions.close();
    this.#stream.flush();
    // Leave once the server has stored every result (or after a grace period).
    await this.#stream.settled(DRAIN_GRACE_MS);
    this.#stream.close();
    this.#stopped = true;
    this.#abort.abort();
  }

  /** Stops at once; inputs in hand are run again elsewhere. */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    this.#stream.close();
  }

  /** Holds a stream to the server, reconnecting with backoff when it is lost. */
  async #serve(): Promise<void> {
    let backoffMs = FIRST_BACKOFF_MS;
    let announcedLoss = false;
    const server = this.#options.serverUrl;
    while (!this.#stopped) {
      const startedMs = this.#clock.now();
      try {
        await this.#stream.open(this.#abort.signal, {
          onConnected: () => {
            this.#share.reset();
            this.#figures.events.event(
              "worker.connected",
              `worker ${this.id}: serving ${server} (connected)`,
              { workerId: this.id, server },
            );
            if (announcedLoss) this.#log(`worker ${this.id}: reconnected to ${server}`);
            announcedLoss = false;
            backoffMs = FIRST_BACKOFF_MS;
          },
          onAssign: (assign) => {
            // Functions described without inputs are a new app's: fetched ahead (prefetch), or
            // for a run's app, whose inputs come at once, loaded with a container starting.
            const ahead = assign.inputs.length === 0;
            for (const [id, described] of Object.entries(assign.functions)) {
              if (ahead && assign.start) this.#functions.prestart(id, described);
              else if (ahead) this.#functions.prefetch(id, described);
              else this.#functions.learn(id, described);
            }
            for (const input of assign.inputs) this.#accept(input);
          },
          onAppStopped: (appId, drain) =>
            drain ? this.#functions.appDrained(appId) : this.#functions.appStopped(appId),
          onCancel: (inputIds) => {
            // A running input's backoff ends, and its running attempt.
            for (const id of inputIds) if (this.#cancels.cancel(id)) this.#deadlines.expireNow(id);
          },
          ...this.#share.handlers(this.#functions, () => this.#stream.heartbeatNow()),
        });
        if (this.#draining || this.#stopped) break;
      } catch (err) {
        if (this.#stopped) break;
        if (err instanceof ConnectError && err.code === Code.Unauthenticated) {
          throw new Error(
            `The server at ${server} refused the worker's token (${err.rawMessage}): pass --token, or set NANO_MODAL_WORKER_TOKEN (or NANO_MODAL_TOKEN when the server has no worker token)`,
          );
        }
        if (!announcedLoss) {
          const why = (err as Error).message;
          this.#log(
            `worker ${this.id}: lost the server at ${server} (${why}); retrying with backoff`,
          );
          announcedLoss = true;
        }
      }
      if (this.#clock.now() - startedMs > HEALTHY_STREAM_MS) backoffMs = FIRST_BACKOFF_MS;
      await this.#clock.sleep(backoffMs, this.#abort.signal).catch(() => {});
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    }
  }

  #accept(input: WorkInput): void {
    this.#inflight.set(input.inputId, input);
    // A loaded function is taken as it is: awaiting its promise cost every input a turn.
    const fn = this.#functions.loaded(input.functionId);
    if (fn) return this.#run(fn, input);
    this.#functions.get(input.functionId).then(
      (loaded) => this.#run(loaded, input),
      (err) => this.#finish(input, workResult(input, loadFailure(input.idx, err))),
    );
  }

  /**
   * Runs an input of a loaded function. Its one attempt (no retries, not a web endpoint: most
   * inputs, a map's by the thousand) runs on callbacks: a chain of async functions cost each
   * input a third of what the worker allocated.
   */
  #run(fn: FunctionInfo, input: WorkInput): void {
    this.#cancels.add(input.inputId);
    const done = (outcome: Outcome) => {
      this.#cancels.delete(input.inputId);
      this.#deadlines.forget(input.inputId);
      this.#finish(input, workResult(input, outcome));
    };
    if (fn.def.web || fn.def.retries?.maxRetries) this.#withRetries(fn, input).then(done);
    else attempt(fn, input, this.#deadlines, done);
  }

  /** Sends an input's result; the worker is idle once none is left. */
  #finish(input: WorkInput, result: WorkResult): void {
    this.#inflight.delete(input.inputId);
    this.#stream.sendResult(result);
    if (this.#inflight.size === 0) {
      this.#idle.resolve();
      this.#idle = Promise.withResolvers();
    }
  }

  /** An input of a function with retries (or a web endpoint): `execute` with its options. */
  #withRetries(fn: FunctionInfo, input: WorkInput): Promise<Outcome> {
    const cancels = this.#cancels, stopped = this.#abort.signal;
    return execute(fn, input, {
      deadlines: this.#deadlines,
      clock: this.#clock,
      // Read only between retries: most inputs never build a signal.
      get signal() {
        return cancels.signal(input.inputId, stopped);
      },
      // fd 3: a platform line, printed on the caller's stderr with the function's prefix.
      onRetry: (text) =>
        this.#stream.sendLog(create(LogLineSchema, {
          appId: fn.appId,
          functionName: fn.def.name,
          fd: 3,
          text,
          timeMs: this.#clock.now(),
        })),
    });
  }
}
