/**
 * The call queue: inputs waiting to run, and the leases that hand them to
 * workers. A lease has an expiry and an owner token; workers renew it by
 * heartbeat and a sweeper requeues the ones that expire, so an input whose
 * worker died runs again elsewhere (at-least-once execution). Finishing an
 * input records its output in the output store of the same store.
 * @module
 */
import type { OutputRecord } from "./output_store.ts";

/** One input waiting to run. */
export interface InputRecord {
  /** `<callId>:<idx>`. */
  inputId: string;
  /** The call it belongs to. */
  callId: string;
  /** The function it runs. */
  functionId: string;
  /** Its position among the call's inputs. */
  idx: number;
  /** The encoded arguments; stores never parse them. */
  args: Uint8Array;
  /** Times a lost worker or sandbox took this input down with it. */
  infraAttempt: number;
}

/** An input handed to a worker until `expiresMs`, unless renewed. */
export interface Lease {
  /** The input leased. */
  input: InputRecord;
  /** Proves the lease is current when the worker completes or requeues it. */
  leaseToken: string;
  /** The worker that holds it. */
  workerId: string;
  /** When it lapses unless renewed (ms since the epoch, from the store's clock). */
  expiresMs: number;
}

/** What a worker reports for an input it holds. */
export interface Completion {
  /** The input finished. */
  inputId: string;
  /** The lease token; `null` for a completion by the control plane itself. */
  leaseToken: string | null;
  /** Its output. */
  output: OutputRecord;
}

/** An input a worker hands back, with the token that proves it holds it. */
export interface HeldInput {
  /** The input. */
  inputId: string;
  /** Its current lease token. */
  leaseToken: string;
}

/** What requeues and sweeps did. */
export interface RequeueReport {
  /** Inputs put back in the queue. */
  requeued: number;
  /** Inputs past their infrastructure retry budget: the caller must fail them. */
  exhausted: InputRecord[];
}

/** How many inputs to lease, and for how long. */
export interface LeaseOptions {
  /** At most this many inputs. */
  max: number;
  /** How long the leases last unless renewed. */
  leaseMs: number;
}

/** How long to wait, and until what. */
export interface WaitOptions {
  /** Resolve after this long even if nothing happened. */
  timeoutMs: number;
  /** Resolve early once this aborts. */
  signal?: AbortSignal;
}

/** The queue of inputs and their leases. All methods are safe to call concurrently. */
export interface CallQueue {
  /** Queues inputs (in order) behind those already queued; known input ids are skipped. */
  enqueue(inputs: InputRecord[]): Promise<void>;
  /** Takes up to `max` queued inputs, oldest first, leased to `workerId`. */
  lease(workerId: string, options: LeaseOptions): Promise<Lease[]>;
  /** Extends the leases `workerId` holds by `leaseMs`; returns the ids it no longer holds. */
  renew(workerId: string, options: { inputIds: string[]; leaseMs: number }): Promise<string[]>;
  /**
   * Finishes inputs and records their outputs. A completion whose lease token
   * is no longer current (the input was requeued or already finished), whose
   * call does not exist, or whose output index was already recorded is
   * rejected: `false` at its index.
   */
  complete(completions: Completion[]): Promise<boolean[]>;
  /** Puts inputs whose sandbox died back in the queue (an infrastructure retry). */
  requeue(items: HeldInput[], maxInfraAttempts: number): Promise<RequeueReport>;
  /**
   * Hands back leased inputs that never reached their worker (leased ahead of
   * its credit): they go to the front of the queue in this order, with no
   * attempt counted. Inputs no longer held under these tokens are skipped.
   * Returns how many went back.
   */
  giveBack(items: HeldInput[]): Promise<number>;
  /** Requeues every lease a departed worker held. */
  releaseWorker(workerId: string, maxInfraAttempts: number): Promise<RequeueReport>;
  /** Requeues expired leases (one sweeper among control planes sharing a store does the work). */
  sweep(maxInfraAttempts: number): Promise<RequeueReport>;
  /** Drops the queued (not leased) inputs of these functions; returns how many. */
  dropQueued(functionIds: string[]): Promise<number>;
  /** Resolves when inputs may be queued, after `timeoutMs`, or on abort. */
  waitInputs(options: WaitOptions): Promise<void>;
  /** Queued (not leased) inputs per function id. */
  depth(): Promise<Record<string, number>>;
}
