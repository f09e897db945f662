/**
 * {@linkcode OutputStore} in this process's memory.
 * @module
 */
import type { Clock } from "../../proto/clock.ts";
import type { WaitOptions } from "./call_queue.ts";
import type { CallRecord, OutputPage, OutputRecord, OutputStore } from "./output_store.ts";
import { WakeSet } from "./_wake_set.ts";

interface CallState {
  call: CallRecord;
  outputs: OutputRecord[];
  done: Set<number>;
  wake: WakeSet;
  lastOutputMs: number;
}

/** Calls and outputs in memory; {@linkcode MemoryCallQueue} records into it. */
export class MemoryOutputStore implements OutputStore {
  #clock: Clock;
  #retentionMs: number;
  #calls = new Map<string, CallState>();

  /** Keeps idle calls for `retentionMs` of `clock` time. */
  constructor(clock: Clock, retentionMs: number) {
    this.#clock = clock;
    this.#retentionMs = retentionMs;
  }

  createCall(call: CallRecord): Promise<void> {
    if (!this.#calls.has(call.callId)) {
      this.#calls.set(call.callId, {
        call: { ...call },
        outputs: [],
        done: new Set(),
        wake: new WakeSet(this.#clock),
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

  readOutputs(callId: string, options: { cursor: number; max: number }): Promise<OutputPage> {
    const { cursor, max } = options;
    const outputs = this.#calls.get(callId)?.outputs.slice(cursor, cursor + max) ?? [];
    return Promise.resolve({ outputs, cursor: cursor + outputs.length });
  }

  waitOutputs(callId: string, options: WaitOptions & { cursor: number }): Promise<void> {
    const state = this.#calls.get(callId);
    if (!state || state.outputs.length > options.cursor) return Promise.resolve();
    return state.wake.wait(options.timeoutMs, options.signal);
  }

  forgetIdle(): Promise<number> {
    const now = this.#clock.now();
    let forgotten = 0;
    for (const [callId, state] of this.#calls) {
      if (now - state.lastOutputMs > this.#retentionMs) {
        this.#calls.delete(callId);
        forgotten++;
      }
    }
    return Promise.resolve(forgotten);
  }

  /** Records an output unless the call is unknown or has one at its index. */
  record(callId: string, output: OutputRecord): boolean {
    const call = this.#calls.get(callId);
    if (!call || call.done.has(output.idx)) return false;
    call.done.add(output.idx);
    call.outputs.push(output);
    call.lastOutputMs = this.#clock.now();
    call.wake.wakeAll();
    return true;
  }

  /** Ends every wait. */
  close(): void {
    for (const call of this.#calls.values()) call.wake.wakeAll();
  }
}
