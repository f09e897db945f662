/**
 * {@linkcode OutputStore} in this process's memory.
 *
 * Memory stays bounded: outputs a map stream has delivered are dropped at once
 * ({@linkcode OutputStore.release}), a call whose outputs are all in keeps no
 * per-input bookkeeping, and what is still held (results of `.remote()` and
 * `.spawn()` calls, which a client may fetch again, and the small record of
 * every finished call) lives under a byte budget: past it, the oldest finished
 * calls are forgotten first, as if their retention had ended. A later fetch of
 * such a call reports it as evicted ({@linkcode MemoryOutputStore.wasEvicted}).
 * @module
 */
import type { Clock } from "../../proto/clock.ts";
import type { WaitOptions } from "./call_queue.ts";
import type { CallRecord, OutputPage, OutputRecord, OutputStore } from "./output_store.ts";
import { WakeSet } from "./_wake_set.ts";
import { EvictedIds } from "./_evicted_ids.ts";

/** The default byte budget for outputs and call records held in memory (64 MiB). */
export const DEFAULT_RETAINED_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * What a call's record costs besides its outputs (its state, the copy of the record, the id,
 * the map entry), and what each held output costs besides its bytes (the record, the
 * `Uint8Array`, its `ArrayBuffer` and backing store, the array slot): measured with heap
 * snapshots of a server over 10,000 `.remote()` calls, so that the budget is close to RSS.
 */
export const CALL_OVERHEAD_BYTES = 400;
/** See {@linkcode CALL_OVERHEAD_BYTES}. */
export const OUTPUT_OVERHEAD_BYTES = 240;

/** Options of {@linkcode MemoryOutputStore}. */
export interface MemoryOutputStoreOptions {
  /** How long an idle call is kept (ms of the store's clock). */
  retentionMs: number;
  /** Bytes of outputs and call records kept at most. @default DEFAULT_RETAINED_OUTPUT_BYTES */
  budgetBytes?: number;
}

interface CallState {
  call: CallRecord;
  /** Outputs from position `base` on, in completion order. */
  outputs: OutputRecord[];
  /** Outputs released (position of `outputs[0]`). */
  base: number;
  /** Outputs recorded so far. */
  received: number;
  /** Every output is in: nothing more is accepted. */
  finished: boolean;
  /** Indexes recorded so far, for calls of several inputs until they finish. */
  seen: Set<number> | undefined;
  /** Bytes counted against the budget for this call (its outputs and its record). */
  bytes: number;
  /** Waiters for outputs, made on the first wait. */
  wake: WakeSet | undefined;
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
  #evicted = new EvictedIds();

  /** Keeps idle calls for `retentionMs` of `clock` time, and at most `budgetBytes` in all. */
  constructor(clock: Clock, options: MemoryOutputStoreOptions) {
    this.#clock = clock;
    this.#retentionMs = options.retentionMs;
    this.#budget = options.budgetBytes ?? DEFAULT_RETAINED_OUTPUT_BYTES;
  }

  /** Bytes of outputs held now, with their overhead (for tests and status). */
  get heldBytes(): number {
    return this.#bytes - this.#calls.size * CALL_OVERHEAD_BYTES;
  }

  /** Bytes counted against the budget now: held outputs and call records. */
  get budgetedBytes(): number {
    return this.#bytes;
  }

  /** Calls evicted to stay under the budget since this store started. */
  get evictedCalls(): number {
    return this.#evicted.count;
  }

  createCall(call: CallRecord): Promise<void> {
    if (!this.#calls.has(call.callId)) {
      this.#calls.set(call.callId, {
        call: { ...call },
        outputs: [],
        base: 0,
        received: 0,
        finished: false,
        seen: undefined,
        bytes: CALL_OVERHEAD_BYTES,
        wake: undefined,
        lastOutputMs: this.#clock.now(),
      });
      this.#bytes += CALL_OVERHEAD_BYTES;
      if (this.#bytes > this.#budget) this.#evict(undefined);
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
      this.#maybeFinish(state);
      state.wake?.wakeAll();
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
    state.wake ??= new WakeSet(this.#clock);
    return state.wake.wait(options.timeoutMs, options.signal);
  }

  release(callId: string, cursor: number): Promise<void> {
    const state = this.#calls.get(callId);
    if (!state || cursor <= state.base) return Promise.resolve();
    const n = Math.min(cursor - state.base, state.outputs.length);
    let freed = 0;
    for (let i = 0; i < n; i++) freed += state.outputs[i].data.byteLength + OUTPUT_OVERHEAD_BYTES;
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

  /** Whether the call was forgotten lately to stay under the byte budget. */
  wasEvicted(callId: string): boolean {
    return !this.#calls.has(callId) && this.#evicted.has(callId);
  }

  /** Records an output unless the call is unknown or has one at its index. */
  record(callId: string, output: OutputRecord): boolean {
    const state = this.#calls.get(callId);
    if (!state || state.finished) return false;
    if (state.call.total !== 1) {
      state.seen ??= new Set();
      if (state.seen.has(output.idx)) return false;
      state.seen.add(output.idx);
    }
    // A view into a larger buffer (a decoded batch) would keep all of that buffer alive. A small
    // array is copied without asking: asking it for its buffer makes V8 move it off its heap.
    const { data } = output;
    const own = data.byteLength > 64 && data.byteLength === data.buffer.byteLength ? output : {
      idx: output.idx,
      data: data.slice(),
    };
    state.received++;
    // An array literal has room for just this one (a push onto [] would make room for 17).
    if (state.outputs.length === 0) state.outputs = [own];
    else state.outputs.push(own);
    const size = data.byteLength + OUTPUT_OVERHEAD_BYTES;
    state.bytes += size;
    this.#bytes += size;
    state.lastOutputMs = this.#clock.now();
    this.#maybeFinish(state);
    if (state.wake) {
      state.wake.wakeAll();
      // Every waiter has gone; a finished call is rarely waited on again (one makes a new set).
      if (state.finished) state.wake = undefined;
    }
    if (this.#bytes > this.#budget) this.#evict(callId);
    return true;
  }

  /** Ends every wait. */
  close(): void {
    for (const state of this.#calls.values()) state.wake?.wakeAll();
  }

  /** Every output is in: the per-index set is no longer needed (all later records are refused). */
  #maybeFinish(state: CallState): void {
    if (!state.finished && state.call.total !== null && state.received >= state.call.total) {
      state.finished = true;
      state.seen = undefined;
    }
  }

  /**
   * Forgets the oldest finished calls until under budget, except `keep` (the call whose output
   * was just recorded: its caller has not read it yet, so a single output over the budget
   * still reaches its caller once).
   */
  #evict(keep: string | undefined): void {
    for (const [callId, state] of this.#calls) {
      if (this.#bytes <= this.#budget) return;
      if (state.finished && callId !== keep) {
        this.#forget(callId, state);
        this.#evicted.add(callId);
      }
    }
  }

  #forget(callId: string, state: CallState): void {
    this.#bytes -= state.bytes;
    this.#calls.delete(callId);
    state.wake?.wakeAll();
  }
}
