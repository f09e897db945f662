/**
 * Calls and their outputs: what `remote()`, `spawn()` and `map()` wait on.
 * Outputs are opaque bytes (an encoded `Output` message) recorded at most
 * once per index; a call is forgotten once it has been idle for the store's
 * retention period, or earlier where a store keeps its outputs under a byte budget.
 * @module
 */
import type { WaitOptions } from "./call_queue.ts";

/** A `.remote()`/`.spawn()` (one input) or a `.map()` (many). */
export interface CallRecord {
  /** `fc-…`. */
  callId: string;
  /** The function called. */
  functionId: string;
  /** Its app. */
  appId: string;
  /** When the call was made (ms since the epoch). */
  createdMs: number;
  /** Number of inputs, once known (a map learns it when its input ends). */
  total: number | null;
}

/** A finished input: the encoded `Output` message and its index. */
export interface OutputRecord {
  /** The input's index in its call. */
  idx: number;
  /** The encoded `Output` message. */
  data: Uint8Array;
}

/** A page of outputs and where the next page starts. */
export interface OutputPage {
  /** Outputs in completion order. */
  outputs: OutputRecord[];
  /** Pass this as the next `cursor`. */
  cursor: number;
}

/** Calls and outputs. All methods are safe to call concurrently. */
export interface OutputStore {
  /** Records a call unless one with its id exists. */
  createCall(call: CallRecord): Promise<void>;
  /** The call with this id, unless unknown or forgotten. */
  getCall(callId: string): Promise<CallRecord | undefined>;
  /** Records how many inputs the call has, and wakes its waiters. */
  setCallTotal(callId: string, total: number): Promise<void>;
  /** Up to `max` outputs of a call in completion order, from position `cursor` on. */
  readOutputs(callId: string, options: { cursor: number; max: number }): Promise<OutputPage>;
  /**
   * Resolves when the call may have outputs past `cursor` (or a new total),
   * when the call is unknown, after `timeoutMs`, or on abort.
   */
  waitOutputs(callId: string, options: WaitOptions & { cursor: number }): Promise<void>;
  /**
   * The client has received the outputs before position `cursor`: a store may drop them
   * (the memory stores do, at once). Later reads from below `cursor` then skip them: the
   * page's `cursor` moves past them without returning them.
   */
  release(callId: string, cursor: number): Promise<void>;
  /** Forgets calls idle for longer than the retention period; returns how many. */
  forgetIdle(): Promise<number>;
  /**
   * Whether a call unknown now was forgotten lately to keep the store under its byte budget
   * (stores without a budget leave this out): a fetch of it then says so.
   */
  wasEvicted?(callId: string): boolean;
}
