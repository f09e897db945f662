/**
 * The worker's half of the `WorkerService/Work` stream; the server's half is
 * `control/worker_service.ts`. Out: hello, credit, results, logs, heartbeats,
 * drain. In: assigned inputs, acknowledgements, stopped apps.
 *
 * What must outlive one stream lives here across reconnects: results the
 * server has not acknowledged go out again on the next stream (the server
 * ignores duplicates), and logs and credit wait for it.
 */
import { type Client, create } from "../proto/deps.ts";
import type { Clock } from "../proto/clock.ts";
import {
  type LogLine,
  type WorkAllowance,
  type WorkAssign,
  type WorkerMessage,
  WorkerMessageSchema,
  type WorkerService,
  type WorkResult,
} from "../proto/messages.ts";
import { AsyncQueue } from "../proto/async_queue.ts";
import { every } from "./_every.ts";
import { chunkByBytes } from "./_protocol.ts";

/** Results and log lines go out in messages of about this many bytes at most. */
const BATCH_BYTES = 8 * 1024 * 1024;

/**
 * Most inputs held beyond `capacity` for the pipelining windows of warm
 * sandboxes (inputs queued at a sandbox of a function that ends in microseconds).
 */
export const MAX_PIPELINED = 1024;

/** How often the worker renews the leases of the inputs it holds. */
export const HEARTBEAT_MS = 5_000;

/** Who this worker is, as its hello says. */
export interface WorkerIdentity {
  workerId: string;
  /** Inputs this worker holds at once. */
  capacity: number;
  runner: string;
  hostname: string;
}

/** What a {@linkcode WorkStream} needs. */
export interface WorkStreamOptions {
  client: Client<typeof WorkerService>;
  clock: Clock;
  hello: WorkerIdentity;
  /** The ids of the inputs in hand: heartbeats renew them, credit leaves room for them. */
  inflight: () => ReadonlyMap<string, unknown>;
  /**
   * Inputs the warm sandboxes may have queued beyond those running (their
   * pipelining windows): the worker holds that many more than its capacity.
   */
  pipelined?: () => number;
  /** The worker's figures for /metrics, sent with each heartbeat. */
  figures?: () => Record<string, number>;
}

/** What the worker does with the commands of one stream. */
export interface WorkStreamHandlers {
  /** The server answered: the stream is up. */
  onConnected(): void;
  /** The server leased inputs to this worker. */
  onAssign(assign: WorkAssign): void;
  /** An app stopped (its sandboxes may go), or with `drain` was superseded (they go once idle). */
  onAppStopped(appId: string, drain: boolean): void;
  /** Calls of these inputs were cancelled: stop running them. */
  onCancel(inputIds: string[]): void;
  /** Keep these functions' minContainers warm now (their app was deployed or started). */
  onWarm?(functionIds: string[]): void;
  /** How many containers of each function this worker may run now (maxContainers is cluster-wide). */
  onAllowance?(allowance: WorkAllowance): void;
}

/** The worker's side of its `Work` streams, one at a time. */
export class WorkStream {
  readonly #options: WorkStreamOptions;
  #out?: AsyncQueue<WorkerMessage>;
  #draining = false;
  #pendingResults: WorkResult[] = [];
  /** Results sent on the current stream that the server has not confirmed yet. */
  #unacked: WorkResult[] = [];
  #ackedOnStream = 0;
  #pendingLogs: LogLine[] = [];
  /** Credit sent and inputs assigned on the current stream: the server holds the difference. */
  #credited = 0;
  #assigned = 0;
  #flushScheduled = false;
  #settledWaiters: (() => void)[] = [];

  constructor(options: WorkStreamOptions) {
    this.#options = options;
  }

  /** Opens one stream and serves it until it ends; rejects with the stream's error. */
  async open(signal: AbortSignal, handlers: WorkStreamHandlers): Promise<void> {
    const { hello, clock } = this.#options;
    const out = new AsyncQueue<WorkerMessage>();
    this.#out = out;
    out.push(create(WorkerMessageSchema, { msg: { case: "hello", value: hello } }));
    // Inputs taken through an earlier stream still run; their leases stay valid
    // (on a shared backend) and their results go out on this stream.
    this.#credited = 0;
    this.#assigned = 0;
    if (this.#draining) {
      out.push(create(WorkerMessageSchema, { msg: { case: "drain", value: {} } }));
    } else {
      const count = this.#room();
      this.#credited = count;
      out.push(create(WorkerMessageSchema, { msg: { case: "credit", value: { count } } }));
    }
    // Results the last stream may have lost go out again; duplicates are ignored.
    this.#pendingResults = [...this.#unacked, ...this.#pendingResults];
    this.#unacked = [];
    this.#ackedOnStream = 0;
    this.flush();
    // A first heartbeat at once: the control plane counts this worker's containers from the start.
    this.heartbeatNow();
    const stopHeartbeats = every(clock, { periodMs: HEARTBEAT_MS, fn: () => this.heartbeatNow() });
    try {
      let first = true;
      for await (const cmd of this.#options.client.work(out, { signal })) {
        if (first) {
          first = false;
          handlers.onConnected();
        }
        if (cmd.msg.case === "assign") {
          this.#assigned += cmd.msg.value.inputs.length;
          handlers.onAssign(cmd.msg.value);
        } else if (cmd.msg.case === "ack") this.#ack(cmd.msg.value.results);
        else if (cmd.msg.case === "appStopped") {
          handlers.onAppStopped(cmd.msg.value.appId, cmd.msg.value.drain);
        } else if (cmd.msg.case === "cancel") handlers.onCancel(cmd.msg.value.inputIds);
        else if (cmd.msg.case === "warm") handlers.onWarm?.(cmd.msg.value.functionIds);
        else if (cmd.msg.case === "allowance") handlers.onAllowance?.(cmd.msg.value);
      }
      if (first) handlers.onConnected();
    } finally {
      stopHeartbeats();
      out.close();
    }
  }

  /** Queues a finished input's result (the next flush gives credit for the room it frees). */
  sendResult(result: WorkResult): void {
    this.#pendingResults.push(result);
    this.#scheduleFlush();
  }

  /** Queues a line a function printed; it goes out before results queued after it. */
  sendLog(line: LogLine): void {
    this.#pendingLogs.push(line);
    this.#scheduleFlush();
  }

  /** Asks the server to lease no more inputs, on this stream and any later one. */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    this.#out?.push(create(WorkerMessageSchema, { msg: { case: "drain", value: {} } }));
  }

  /**
   * Resolves `true` once the server has stored every result queued so far, or
   * `false` when `graceMs` pass first.
   */
  async settled(graceMs: number): Promise<boolean> {
    if (this.#isSettled()) return true;
    const grace = new AbortController();
    const acked = new Promise<boolean>((resolve) => this.#settledWaiters.push(() => resolve(true)));
    const timedOut = this.#options.clock.sleep(graceMs, grace.signal).then(
      () => false,
      () => false,
    );
    try {
      return await Promise.race([acked, timedOut]);
    } finally {
      grace.abort();
    }
  }

  /** Ends the current stream (the server then releases what this worker held). */
  close(): void {
    this.#out?.close();
  }

  /** Sends what is queued now on the current stream; between streams it waits for the next. */
  flush(): void {
    this.#flushScheduled = false;
    const out = this.#out;
    if (!out || out.closed) return;
    // Logs first: a caller sees what a function printed before its result.
    // Messages of about BATCH_BYTES at most: a burst of large results never makes one
    // message over the wire limit.
    const logs = this.#pendingLogs.splice(0);
    for (const lines of chunkByBytes(logs, (l) => 64 + l.text.length * 3, BATCH_BYTES)) {
      out.push(create(WorkerMessageSchema, { msg: { case: "logs", value: { lines } } }));
    }
    const pending = this.#pendingResults.splice(0);
    this.#unacked.push(...pending);
    for (const results of chunkByBytes(pending, (r) => 128 + r.output.byteLength, BATCH_BYTES)) {
      out.push(create(WorkerMessageSchema, { msg: { case: "results", value: { results } } }));
    }
    const count = this.#draining ? 0 : this.#room();
    if (count > 0) {
      this.#credited += count;
      out.push(create(WorkerMessageSchema, { msg: { case: "credit", value: { count } } }));
    }
  }

  /**
   * Inputs to ask for now: capacity plus the sandboxes' pipelining windows,
   * less the inputs in hand and the credit the server has not used yet.
   */
  #room(): number {
    const { hello, inflight, pipelined } = this.#options;
    const want = hello.capacity + Math.min(pipelined?.() ?? 0, MAX_PIPELINED);
    return Math.max(0, want - inflight().size - (this.#credited - this.#assigned));
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // A macrotask lets results that finish in the same tick share one message.
    setImmediate(() => this.flush());
  }

  /** Sends a heartbeat now (leases, figures), besides the one every {@linkcode HEARTBEAT_MS}. */
  heartbeatNow(): void {
    const inputIds = [...this.#options.inflight().keys()];
    this.#out?.push(create(WorkerMessageSchema, {
      msg: { case: "heartbeat", value: { inputIds, figures: this.#options.figures?.() ?? {} } },
    }));
  }

  #ack(storedOnStream: number): void {
    const confirmed = storedOnStream - this.#ackedOnStream;
    this.#ackedOnStream = storedOnStream;
    this.#unacked.splice(0, confirmed);
    if (this.#isSettled()) { for (const wake of this.#settledWaiters.splice(0)) wake(); }
  }

  #isSettled(): boolean {
    return this.#unacked.length === 0 && this.#pendingResults.length === 0;
  }
}
