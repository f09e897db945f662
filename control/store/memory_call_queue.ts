/**
 * {@linkcode CallQueue} in this process's memory: the queue of the embedded
 * store, which is lost with the process (callers resubmit).
 * @module
 */
import type { Clock } from "../../proto/clock.ts";
import type {
  CallQueue,
  Completion,
  HeldInput,
  InputRecord,
  Lease,
  LeaseOptions,
  RequeueReport,
  WaitOptions,
} from "./call_queue.ts";
import type { MemoryOutputStore } from "./memory_output_store.ts";
import { WakeSet } from "./_wake_set.ts";

interface InputState {
  input: InputRecord;
  lease: Lease | null;
  /** In the queue; neither leased nor exhausted. */
  queued: boolean;
}

/** The queue and leases in memory; completions go to a {@linkcode MemoryOutputStore}. */
export class MemoryCallQueue implements CallQueue {
  #clock: Clock;
  #outputs: MemoryOutputStore;
  #inputs = new Map<string, InputState>();
  #queue: string[] = [];
  #queueHead = 0;
  #queuedPerFunction = new Map<string, number>();
  #leasesByWorker = new Map<string, Set<string>>();
  #inputWake: WakeSet;
  #seq = 0;

  /** Records completions in `outputs`; leases expire on `clock`. */
  constructor(outputs: MemoryOutputStore, clock: Clock) {
    this.#outputs = outputs;
    this.#clock = clock;
    this.#inputWake = new WakeSet(clock);
  }

  enqueue(inputs: InputRecord[]): Promise<void> {
    // Counted per run of one function (a map's batch is one run), not per input.
    const counted = new RunCounter((fn, n) => this.#countQueued(fn, n));
    for (const input of inputs) {
      if (this.#inputs.has(input.inputId)) continue;
      this.#inputs.set(input.inputId, { input, lease: null, queued: true });
      this.#queue.push(input.inputId);
      counted.add(input.functionId, 1);
    }
    counted.flush();
    if (inputs.length > 0) this.#inputWake.wakeAll();
    return Promise.resolve();
  }

  lease(workerId: string, { max, leaseMs }: LeaseOptions): Promise<Lease[]> {
    const leases: Lease[] = [];
    const expiresMs = this.#clock.now() + leaseMs;
    const counted = new RunCounter((fn, n) => this.#countQueued(fn, n));
    let held: Set<string> | undefined;
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
      counted.add(state.input.functionId, -1);
      (held ??= this.#workerLeases(workerId)).add(id);
      leases.push(lease);
    }
    counted.flush();
    if (this.#queueHead > 4096 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
    return Promise.resolve(leases);
  }

  renew(workerId: string, options: { inputIds: string[]; leaseMs: number }): Promise<string[]> {
    const lost: string[] = [];
    const expiresMs = this.#clock.now() + options.leaseMs;
    for (const id of options.inputIds) {
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
      return this.#outputs.record(state.input.callId, c.output);
    });
    return Promise.resolve(accepted);
  }

  requeue(items: HeldInput[], maxInfraAttempts: number): Promise<RequeueReport> {
    const states: InputState[] = [];
    for (const item of items) {
      const state = this.#inputs.get(item.inputId);
      if (state?.lease?.leaseToken === item.leaseToken) states.push(state);
    }
    return Promise.resolve(this.#requeueStates(states, maxInfraAttempts));
  }

  giveBack(items: HeldInput[]): Promise<number> {
    const back: string[] = [];
    for (const item of items) {
      const state = this.#inputs.get(item.inputId);
      if (!state?.lease || state.lease.leaseToken !== item.leaseToken) continue;
      this.#finishInput(state);
      this.#inputs.set(item.inputId, { input: state.input, lease: null, queued: true });
      this.#countQueued(state.input.functionId, 1);
      back.push(item.inputId);
    }
    if (back.length === 0) return Promise.resolve(0);
    if (this.#queueHead >= back.length) {
      this.#queueHead -= back.length;
      for (let i = 0; i < back.length; i++) this.#queue[this.#queueHead + i] = back[i];
    } else this.#queue.splice(this.#queueHead, 0, ...back);
    this.#inputWake.wakeAll();
    return Promise.resolve(back.length);
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
    return Promise.resolve(this.#requeueStates(expired, maxInfraAttempts));
  }

  dropQueued(functionIds: string[]): Promise<number> {
    const fnIds = new Set(functionIds);
    let dropped = 0;
    for (const [id, state] of this.#inputs) {
      if (fnIds.has(state.input.functionId) && state.queued) {
        this.#inputs.delete(id);
        this.#countQueued(state.input.functionId, -1);
        dropped++;
      }
    }
    return Promise.resolve(dropped);
  }

  waitInputs({ timeoutMs, signal }: WaitOptions): Promise<void> {
    if (this.#queueHead < this.#queue.length) return Promise.resolve();
    return this.#inputWake.wait(timeoutMs, signal);
  }

  depth(): Promise<Record<string, number>> {
    return Promise.resolve(Object.fromEntries(this.#queuedPerFunction));
  }

  /** Ends every wait. */
  close(): void {
    this.#inputWake.wakeAll();
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

/** Adds up a count per function over runs of inputs of the same one, then hands each on. */
class RunCounter {
  #fn: string | undefined;
  #n = 0;
  readonly #hand: (functionId: string, n: number) => void;

  constructor(hand: (functionId: string, n: number) => void) {
    this.#hand = hand;
  }

  add(functionId: string, n: number): void {
    if (functionId !== this.#fn) this.flush();
    this.#fn = functionId;
    this.#n += n;
  }

  flush(): void {
    if (this.#fn !== undefined && this.#n !== 0) this.#hand(this.#fn, this.#n);
    this.#n = 0;
  }
}
