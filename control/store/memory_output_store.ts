/**
 * {@linkcode OutputStore} in this process's memory.
 *
 * Memory stays bounded: outputs a map stream has delivered are dropped at once
 * ({@linkcode OutputStore.release}), a call whose outputs are all in keeps no
 * per-input bookkeeping, and the outputs still held (results of `.remote()` and
 * `.spawn()` calls, which a client may fetch again) live under a byte budget:
 * past it, the oldest finished calls are forgotten first, as if their retention
 * had ended. A later `get()` of such a call reports it as expired.
 * @module
 */
import type { Clock } from "../../proto/clock.ts";
import type { WaitOptions } from "./call_queue.ts";
import type { CallRecord, OutputPage, OutputRecord, OutputStore } from "./output_store.ts";
import { WakeSet } from "./_wake_set.ts";

/** The default byte budget for outputs held in memory (64 MiB). */
export const DEFAULT_RETAINED_OUTPUT_BYTES = 64 * 1024 * 1024;

/** Bookkeeping per held output besides its bytes (record, array slot), for the budget. */
const RECORD_OVERHEAD = 64;

interface CallState {
  call: CallRecord;
  /** Outputs from position `base` on, in completion order. */
  outputs: OutputRecord[];
  /** Outputs released (position of `outputs[0]`). */
  base: number;
  /** Indexes recorded so far, until every output is in (then null: nothing more is accepted). */
  done: Set<number> | null;
  /** Bytes of the outputs held. */
  bytes: number;
  wake: WakeSet;
  lastOutputMs: number;
}

/** Calls and outputs in memory; {@linkcode MemoryCallQueue} records into it. */
export class MemoryOutputStore implements OutputStore {
  #clock: Clock;
  #retentionMs: number;
  #budget: number;
  #bytes = 0;
  /** In creation order: eviction walks it from the oldest. */
  #calls = new Map<string, CallState>();

  /** Keeps idle calls for `retentionMs` of `clock` time, and at most `budgetBytes` of outputs. */
  constructor(clock: Clock, retentionMs: number, budgetBytes = DEFAULT_RETAINED_OUTPUT_BYTES) {
    this.#clock = clock;
    this.#retentionMs = retentionMs;
    this.#budget = budgetBytes;
  }

  /** Bytes of outputs held now (for tests and status). */
  get heldBytes(): number {
    return this.#bytes;
  }

  createCall(call: CallRecord): Promise<void> {
    if (!this.#calls.has(call.callId)) {
      this.#calls.set(call.callId, {
        call: { ...call },
        outputs: [],
        base: 0,
        done: new Set(),
        bytes: 0,
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
      this.#maybeComplete(state);
      state.wake.wakeAll();
    }
    return Promise.resolve();
  }

  readOutputs(callId: string, options: { cursor: number; max: number }): Promise<OutputPage> {
    const state = this.#calls.get(callId);
    if (!state) return Promise.resolve({ outputs: [], cursor: options.cursor });
    // Released outputs are skipped: the page then starts past them (cursor jumps).
    const from = Math.max(options.cursor, state.base);
    const outputs = state.outputs.slice(from - state.base, from - state.base + options.max);
    return Promise.resolve({ outputs, cursor: from + outputs.length });
  }

  waitOutputs(callId: string, options: WaitOptions & { cursor: number }): Promise<void> {
    const state = this.#calls.get(callId);
    if (!state || state.base + state.outputs.length > options.cursor) return Promise.resolve();
    return state.wake.wait(options.timeoutMs, options.signal);
  }

  release(callId: string, cursor: number): Promise<void> {
    const state = this.#calls.get(callId);
    if (!state || cursor <= state.base) return Promise.resolve();
    const n = Math.min(cursor - state.base, state.outputs.length);
    let freed = 0;
    for (let i = 0; i < n; i++) freed += state.outputs[i].data.byteLength + RECORD_OVERHEAD;
    state.outputs = state.outputs.slice(n);
    state.base += n;
    state.bytes -= freed;
    this.#bytes -= freed;
    return Promise.resolve();
  }

  forgetIdle(): Promise<number> {
    const now = this.#clock.now();
    let forgotten = 0;
    for (const [callId, state] of this.#calls) {
      if (now - state.lastOutputMs > this.#retentionMs) {
        this.#forget(callId, state);
        forgotten++;
      }
    }
    return Promise.resolve(forgotten);
  }

  /** Records an output unless the call is unknown or has one at its index. */
  record(callId: string, output: OutputRecord): boolean {
    const call = this.#calls.get(callId);
    if (!call || !call.done || call.done.has(output.idx)) return false;
    call.done.add(output.idx);
    call.outputs.push(output);
    const size = output.data.byteLength + RECORD_OVERHEAD;
    call.bytes += size;
    this.#bytes += size;
    call.lastOutputMs = this.#clock.now();
    this.#maybeComplete(call);
    call.wake.wakeAll();
    if (this.#bytes > this.#budget) this.#evict();
    return true;
  }

  /** Ends every wait. */
  close(): void {
    for (const call of this.#calls.values()) call.wake.wakeAll();
  }

  /** Every output is in: the per-index set is no longer needed (all later records are refused). */
  #maybeComplete(state: CallState): void {
    if (state.done && state.call.total !== null && state.done.size >= state.call.total) {
      state.done = null;
    }
  }

  /** Forgets the oldest finished calls that hold outputs until under budget. */
  #evict(): void {
    for (const [callId, state] of this.#calls) {
      if (this.#bytes <= this.#budget) return;
      if (state.done === null && state.bytes > 0) this.#forget(callId, state);
    }
  }

  #forget(callId: string, state: CallState): void {
    this.#bytes -= state.bytes;
    this.#calls.delete(callId);
    state.wake.wakeAll();
  }
}
