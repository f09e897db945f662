/**
 * The queue and state backend: everything the control plane remembers.
 *
 * Two implementations honour this contract: the embedded in-memory one
 * (`memory_backend.ts`) and Redis (`redis_backend.ts`). Both are held to it by
 * one conformance suite (`backend_conformance.ts`). Control planes are
 * stateless over a backend, so several may share one Redis.
 *
 * Outputs are opaque bytes (an encoded `Output` message): backends never parse
 * payloads. Time comes from an injected {@linkcode Clock} so leases can be
 * tested with fake time.
 * @module
 */

/** A source of wall-clock milliseconds; injected so tests can fake time. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A deployed or ephemeral app. */
export interface AppRecord {
  appId: string;
  name: string;
  ephemeral: boolean;
  stopped: boolean;
  createdMs: number;
  bundleHash: string;
  entryUrl: string;
  /** Function name -> function id. */
  functionIds: Record<string, string>;
}

/** One function of an app; `def` is the encoded `FunctionDef` message. */
export interface FunctionRecord {
  functionId: string;
  appId: string;
  name: string;
  def: Uint8Array;
}

/** A `.remote()`/`.spawn()` (one input) or a `.map()` (many). */
export interface CallRecord {
  callId: string;
  functionId: string;
  appId: string;
  createdMs: number;
  /** Number of inputs, once known (a map learns it when its input ends). */
  total: number | null;
}

/** One input waiting to run. */
export interface InputRecord {
  inputId: string;
  callId: string;
  functionId: string;
  idx: number;
  args: Uint8Array;
  /** Times a lost worker or sandbox took this input down with it. */
  infraAttempt: number;
}

/** An input handed to a worker until `expiresMs`, unless renewed. */
export interface Lease {
  input: InputRecord;
  leaseToken: string;
  workerId: string;
  expiresMs: number;
}

/** A finished input: the encoded `Output` message and its index. */
export interface OutputRecord {
  idx: number;
  data: Uint8Array;
}

/** What a worker reports for an input it holds. */
export interface Completion {
  inputId: string;
  /** The lease token; `null` for a completion by the control plane itself. */
  leaseToken: string | null;
  output: OutputRecord;
}

/** What {@linkcode Backend.sweep} and requeues did. */
export interface RequeueReport {
  requeued: number;
  /** Inputs past their infrastructure retry budget: the caller must fail them. */
  exhausted: InputRecord[];
}

/** A live worker, as it last reported. */
export interface WorkerRecord {
  workerId: string;
  capacity: number;
  runner: string;
  hostname: string;
  lastSeenMs: number;
  /** Inputs the worker holds, as of this record. */
  busy?: number;
  /** Inputs it holds per function id, as of this record. */
  running?: Record<string, number>;
}

/** The contract every backend implements. All methods are safe to call concurrently. */
export interface Backend {
  /** Short name for logs and `Ping`: "memory" or "redis". */
  readonly kind: string;

  putBundle(hash: string, data: Uint8Array): Promise<void>;
  hasBundle(hash: string): Promise<boolean>;
  getBundle(hash: string): Promise<Uint8Array | undefined>;

  putApp(app: AppRecord, functions: FunctionRecord[]): Promise<void>;
  getApp(appId: string): Promise<AppRecord | undefined>;
  listApps(): Promise<AppRecord[]>;
  /** Marks the app stopped and drops its queued inputs. */
  stopApp(appId: string): Promise<void>;
  getFunction(functionId: string): Promise<FunctionRecord | undefined>;

  createCall(call: CallRecord): Promise<void>;
  getCall(callId: string): Promise<CallRecord | undefined>;
  setCallTotal(callId: string, total: number): Promise<void>;

  /** Queues inputs (in order) behind those already queued. */
  enqueue(inputs: InputRecord[]): Promise<void>;
  /** Takes up to `max` queued inputs for `workerId`, leased for `leaseMs`. */
  lease(workerId: string, max: number, leaseMs: number): Promise<Lease[]>;
  /** Extends the leases `workerId` holds; returns the ids it no longer holds. */
  renew(workerId: string, inputIds: string[], leaseMs: number): Promise<string[]>;
  /**
   * Records outputs. A completion whose lease token is no longer current (the
   * input was requeued or already finished) is rejected: `false` at its index.
   */
  complete(completions: Completion[]): Promise<boolean[]>;
  /** Puts inputs whose sandbox died back in the queue (infrastructure retry). */
  requeue(
    items: { inputId: string; leaseToken: string }[],
    maxInfraAttempts: number,
  ): Promise<RequeueReport>;
  /** Requeues every lease a departed worker held. */
  releaseWorker(workerId: string, maxInfraAttempts: number): Promise<RequeueReport>;
  /** Requeues expired leases (at most one sweeper need run at a time). */
  sweep(maxInfraAttempts: number): Promise<RequeueReport>;

  /** Outputs of a call in completion order, from position `cursor` on. */
  readOutputs(
    callId: string,
    cursor: number,
    max: number,
  ): Promise<{ outputs: OutputRecord[]; cursor: number }>;
  /** Resolves when the call may have outputs past `cursor`, or after `timeoutMs`. */
  waitOutputs(
    callId: string,
    cursor: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void>;
  /** Resolves when inputs may be queued, or after `timeoutMs`. */
  waitInputs(timeoutMs: number, signal?: AbortSignal): Promise<void>;

  /**
   * Sends log lines (an encoded `StreamLogsResponse`) to the app's subscribers,
   * numbering the batch; returns its sequence number (1, 2, ... per app).
   */
  publishLogs(appId: string, data: Uint8Array): Promise<number>;
  /** Calls `onLogs` for each batch published for the app until unsubscribed. */
  subscribeLogs(
    appId: string,
    onLogs: (data: Uint8Array, seq: number) => void,
  ): Promise<() => void>;
  /** Sequence number of the app's latest log batch (0 if none). */
  logSeq(appId: string): Promise<number>;

  /** Queued (not leased) inputs per function id. */
  queueDepth(): Promise<Record<string, number>>;
  heartbeatWorker(worker: WorkerRecord): Promise<void>;
  removeWorker(workerId: string): Promise<void>;
  listWorkers(): Promise<WorkerRecord[]>;

  close(): Promise<void>;
}
