/**
 * The embedded backend: all state in this process. The default for `serve`
 * and `run`; loses everything when the process exits.
 * @module
 */
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
import { WakeSet } from "./_signal.ts";

/** Options for {@linkcode MemoryBackend}. */
export interface MemoryBackendOptions {
  clock?: Clock;
  /** How long finished calls stay retrievable. @default 86_400_000 (24 h) */
  retentionMs?: number;
}

interface InputState {
  input: InputRecord;
  lease: Lease | null;
  /** In the queue; neither leased nor exhausted. */
  queued: boolean;
}

interface CallState {
  call: CallRecord;
  outputs: OutputRecord[];
  done: Set<number>;
  wake: WakeSet;
  lastOutputMs: number;
}

/**
 * In-memory {@linkcode Backend}.
 *
 * @example
 * ```ts
 * import { MemoryBackend } from "./memory_backend.ts";
 * const backend = new MemoryBackend();
 * console.log(await backend.hasBundle("abc")); // false
 * ```
 */
export class MemoryBackend implements Backend {
  readonly kind = "memory";
  #clock: Clock;
  #retentionMs: number;
  #bundles = new Map<string, Uint8Array>();
  #apps = new Map<string, AppRecord>();
  #functions = new Map<string, FunctionRecord>();
  #calls = new Map<string, CallState>();
  #inputs = new Map<string, InputState>();
  #queue: string[] = [];
  #queueHead = 0;
  #queuedPerFunction = new Map<string, number>();
  #leasesByWorker = new Map<string, Set<string>>();
  #inputWake = new WakeSet();
  #logSubscribers = new Map<string, Set<(data: Uint8Array, seq: number) => void>>();
  #logSeqs = new Map<string, number>();
  #workers = new Map<string, WorkerRecord>();
  #seq = 0;

  constructor(options: MemoryBackendOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#retentionMs = options.retentionMs ?? 86_400_000;
  }

  putBundle(hash: string, data: Uint8Array): Promise<void> {
    this.#bundles.set(hash, data);
    return Promise.resolve();
  }
  hasBundle(hash: string): Promise<boolean> {
    return Promise.resolve(this.#bundles.has(hash));
  }
  getBundle(hash: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#bundles.get(hash));
  }

  putApp(app: AppRecord, functions: FunctionRecord[]): Promise<void> {
    this.#apps.set(app.appId, structuredClone(app));
    for (const fn of functions) this.#functions.set(fn.functionId, fn);
    return Promise.resolve();
  }
  getApp(appId: string): Promise<AppRecord | undefined> {
    const app = this.#apps.get(appId);
    return Promise.resolve(app && structuredClone(app));
  }
  listApps(): Promise<AppRecord[]> {
    return Promise.resolve([...this.#apps.values()].map((a) => structuredClone(a)));
  }
  stopApp(appId: string): Promise<void> {
    const app = this.#apps.get(appId);
    if (!app) return Promise.resolve();
    app.stopped = true;
    const fnIds = new Set(Object.values(app.functionIds));
    for (const [id, state] of this.#inputs) {
      if (fnIds.has(state.input.functionId) && state.queued) {
        this.#inputs.delete(id);
        this.#countQueued(state.input.functionId, -1);
      }
    }
    return Promise.resolve();
  }
  getFunction(functionId: string): Promise<FunctionRecord | undefined> {
    return Promise.resolve(this.#functions.get(functionId));
  }

  createCall(call: CallRecord): Promise<void> {
    if (!this.#calls.has(call.callId)) {
      this.#calls.set(call.callId, {
        call: { ...call },
        outputs: [],
        done: new Set(),
        wake: new WakeSet(),
        lastOutputMs: this.#clock.now(),
      });
    }
    return Promise.resolve();
  }
  getCall(callId: string): Promise<CallRecord | undefined> {
    const state = this.#calls.get(callId);
    return Promise.resolve(state && { ...state.call });
  }
  setCallTotal(callId: string, total: number): Promise<void> {
    const state = this.#calls.get(callId);
    if (state) {
      state.call.total = total;
      state.wake.wakeAll();
    }
    return Promise.resolve();
  }

  enqueue(inputs: InputRecord[]): Promise<void> {
    for (const input of inputs) {
      if (this.#inputs.has(input.inputId)) continue;
      this.#inputs.set(input.inputId, { input, lease: null, queued: true });
      this.#queue.push(input.inputId);
      this.#countQueued(input.functionId, 1);
    }
    if (inputs.length > 0) this.#inputWake.wakeAll();
    return Promise.resolve();
  }

  lease(workerId: string, max: number, leaseMs: number): Promise<Lease[]> {
    const leases: Lease[] = [];
    const expiresMs = this.#clock.now() + leaseMs;
    while (leases.length < max && this.#queueHead < this.#queue.length) {
      const id = this.#queue[this.#queueHead++];
      const state = this.#inputs.get(id);
      if (!state || !state.queued) continue; // dropped (app stopped) or stale queue entry
      const lease: Lease = {
        input: state.input,
        leaseToken: `${workerId}:${++this.#seq}`,
        workerId,
        expiresMs,
      };
      state.lease = lease;
      state.queued = false;
      this.#countQueued(state.input.functionId, -1);
      this.#workerLeases(workerId).add(id);
      leases.push(lease);
    }
    if (this.#queueHead > 4096 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
    return Promise.resolve(leases);
  }

  renew(workerId: string, inputIds: string[], leaseMs: number): Promise<string[]> {
    const lost: string[] = [];
    const expiresMs = this.#clock.now() + leaseMs;
    for (const id of inputIds) {
      const lease = this.#inputs.get(id)?.lease;
      if (lease && lease.workerId === workerId) lease.expiresMs = expiresMs;
      else lost.push(id);
    }
    return Promise.resolve(lost);
  }

  complete(completions: Completion[]): Promise<boolean[]> {
    const accepted = completions.map((c) => {
      const state = this.#inputs.get(c.inputId);
      if (!state) return false;
      if (c.leaseToken !== null && state.lease?.leaseToken !== c.leaseToken) return false;
      if (state.queued) this.#countQueued(state.input.functionId, -1);
      this.#finishInput(state);
      const call = this.#calls.get(state.input.callId);
      if (!call || call.done.has(c.output.idx)) return false;
      call.done.add(c.output.idx);
      call.outputs.push(c.output);
      call.lastOutputMs = this.#clock.now();
      call.wake.wakeAll();
      return true;
    });
    return Promise.resolve(accepted);
  }

  requeue(
    items: { inputId: string; leaseToken: string }[],
    maxInfraAttempts: number,
  ): Promise<RequeueReport> {
    const states: InputState[] = [];
    for (const item of items) {
      const state = this.#inputs.get(item.inputId);
      if (state?.lease?.leaseToken === item.leaseToken) states.push(state);
    }
    return Promise.resolve(this.#requeueStates(states, maxInfraAttempts));
  }

  releaseWorker(workerId: string, maxInfraAttempts: number): Promise<RequeueReport> {
    const ids = this.#leasesByWorker.get(workerId) ?? new Set();
    const states = [...ids].map((id) => this.#inputs.get(id)).filter((s): s is InputState =>
      s?.lease?.workerId === workerId
    );
    return Promise.resolve(this.#requeueStates(states, maxInfraAttempts));
  }

  sweep(maxInfraAttempts: number): Promise<RequeueReport> {
    const now = this.#clock.now();
    const expired = [...this.#inputs.values()].filter((s) => s.lease && s.lease.expiresMs <= now);
    const report = this.#requeueStates(expired, maxInfraAttempts);
    for (const [callId, state] of this.#calls) {
      if (now - state.lastOutputMs > this.#retentionMs) this.#calls.delete(callId);
    }
    return Promise.resolve(report);
  }

  readOutputs(
    callId: string,
    cursor: number,
    max: number,
  ): Promise<{ outputs: OutputRecord[]; cursor: number }> {
    const outputs = this.#calls.get(callId)?.outputs.slice(cursor, cursor + max) ?? [];
    return Promise.resolve({ outputs, cursor: cursor + outputs.length });
  }

  waitOutputs(
    callId: string,
    cursor: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const state = this.#calls.get(callId);
    if (!state || state.outputs.length > cursor) return Promise.resolve();
    return state.wake.wait(timeoutMs, signal);
  }

  waitInputs(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#queueHead < this.#queue.length) return Promise.resolve();
    return this.#inputWake.wait(timeoutMs, signal);
  }

  publishLogs(appId: string, data: Uint8Array): Promise<number> {
    const seq = (this.#logSeqs.get(appId) ?? 0) + 1;
    this.#logSeqs.set(appId, seq);
    for (const fn of this.#logSubscribers.get(appId) ?? []) fn(data, seq);
    return Promise.resolve(seq);
  }
  logSeq(appId: string): Promise<number> {
    return Promise.resolve(this.#logSeqs.get(appId) ?? 0);
  }
  subscribeLogs(
    appId: string,
    onLogs: (data: Uint8Array, seq: number) => void,
  ): Promise<() => void> {
    let subs = this.#logSubscribers.get(appId);
    if (!subs) this.#logSubscribers.set(appId, subs = new Set());
    subs.add(onLogs);
    return Promise.resolve(() => {
      subs.delete(onLogs);
      if (subs.size === 0) this.#logSubscribers.delete(appId);
    });
  }

  queueDepth(): Promise<Record<string, number>> {
    return Promise.resolve(Object.fromEntries(this.#queuedPerFunction));
  }
  heartbeatWorker(worker: WorkerRecord): Promise<void> {
    this.#workers.set(worker.workerId, { ...worker });
    return Promise.resolve();
  }
  removeWorker(workerId: string): Promise<void> {
    this.#workers.delete(workerId);
    return Promise.resolve();
  }
  listWorkers(): Promise<WorkerRecord[]> {
    return Promise.resolve([...this.#workers.values()].map((w) => ({ ...w })));
  }

  close(): Promise<void> {
    this.#inputWake.wakeAll();
    for (const call of this.#calls.values()) call.wake.wakeAll();
    return Promise.resolve();
  }

  #requeueStates(states: InputState[], maxInfraAttempts: number): RequeueReport {
    const report: RequeueReport = { requeued: 0, exhausted: [] };
    for (const state of states) {
      this.#finishInput(state);
      const input = { ...state.input, infraAttempt: state.input.infraAttempt + 1 };
      if (input.infraAttempt > maxInfraAttempts) {
        // Keep it (unleased, unqueued) so the control plane can fail it once.
        this.#inputs.set(input.inputId, { input, lease: null, queued: false });
        report.exhausted.push(input);
        continue;
      }
      this.#inputs.set(input.inputId, { input, lease: null, queued: true });
      this.#queue.push(input.inputId);
      this.#countQueued(input.functionId, 1);
      report.requeued++;
    }
    if (report.requeued > 0) this.#inputWake.wakeAll();
    return report;
  }

  #finishInput(state: InputState): void {
    this.#inputs.delete(state.input.inputId);
    if (state.lease) this.#leasesByWorker.get(state.lease.workerId)?.delete(state.input.inputId);
  }

  #workerLeases(workerId: string): Set<string> {
    let set = this.#leasesByWorker.get(workerId);
    if (!set) this.#leasesByWorker.set(workerId, set = new Set());
    return set;
  }

  #countQueued(functionId: string, delta: number): void {
    const n = (this.#queuedPerFunction.get(functionId) ?? 0) + delta;
    if (n > 0) this.#queuedPerFunction.set(functionId, n);
    else this.#queuedPerFunction.delete(functionId);
  }
}
