/**
 * What the worker streams of one control plane share for their cluster
 * shares (`_cluster_share.ts`): a lock, so allowances are computed one at a
 * time; a way to ask the other streams to look again; and a short-lived cache
 * of the functions that need warm containers.
 */

/** Functions needing warm containers are listed again after this long. */
const CANDIDATES_TTL_MS = 1_000;

import type { Clock } from "../proto/clock.ts";

/** What the board asks of a stream's share. */
export interface BoardMember {
  /** Computes these functions' allowances again. */
  recompute(functionIds: string[]): Promise<void>;
  /** Takes up warm duties nobody holds. */
  checkWarm(): Promise<void>;
  /** The worker whose share it is. */
  readonly workerId?: string;
  /** Makes sure the allowances cover the inputs the worker holds of these functions. */
  beforeAssign?(functionIds: string[]): Promise<void>;
}

/** The cluster shares of one control plane's streams. */
export class ShareBoard {
  readonly #members = new Set<BoardMember>();
  /** Direct web requests each worker has open, per function id (see `_web_peer.ts`). */
  readonly #webHeld = new Map<string, () => Record<string, number>>();
  #chain: Promise<unknown> = Promise.resolve();
  #candidates?: { atMs: number; list: Promise<Set<string>> };
  #load?: () => Promise<Set<string>>;
  #clock?: Clock;

  /** Registers a stream's share; returns the function that removes it. */
  add(member: BoardMember): () => void {
    this.#members.add(member);
    return () => this.#members.delete(member);
  }

  /** Runs `fn` after every earlier call has settled. */
  serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Asks every other stream to compute these functions' allowances again. */
  nudge(from: BoardMember, functionIds: string[]): void {
    for (const m of this.#members) if (m !== from) m.recompute(functionIds).catch(() => {});
  }

  /** Sets how the functions needing warm containers are listed (by the worker service). */
  loadCandidatesWith(load: () => Promise<Set<string>>, clock: Clock): void {
    this.#load = load;
    this.#clock = clock;
  }

  /** The functions of live apps with `minContainers`, listed at most once a second. */
  warmCandidates(): Promise<Set<string>> {
    if (!this.#load || !this.#clock) return Promise.resolve(new Set());
    const now = this.#clock.now();
    if (!this.#candidates || now - this.#candidates.atMs > CANDIDATES_TTL_MS) {
      const list = this.#load();
      this.#candidates = { atMs: now, list };
      list.catch(() => this.#candidates = undefined);
    }
    return this.#candidates.list;
  }

  /**
   * Registers how many direct web requests a worker has open per function: demand that its
   * work stream's held inputs do not show. Returns the function that removes it.
   */
  webHeldBy(workerId: string, count: () => Record<string, number>): () => void {
    this.#webHeld.set(workerId, count);
    return () => this.#webHeld.get(workerId) === count && this.#webHeld.delete(workerId);
  }

  /** `held` (inputs per function id) plus the direct web requests `workerId` has open. */
  withWebHeld(workerId: string, held: Record<string, number>): Record<string, number> {
    const web = this.#webHeld.get(workerId)?.();
    if (!web) return held;
    const sum = { ...held };
    for (const [id, n] of Object.entries(web)) sum[id] = (sum[id] ?? 0) + n;
    return sum;
  }

  /** A worker was sent a web request of a function it had none open of: its allowance may need raising. */
  webDemand(workerId: string, functionId: string): void {
    for (const m of this.#members) {
      if (m.workerId === workerId) m.beforeAssign?.([functionId]).catch(() => {});
    }
  }

  /** An app was created: list candidates afresh, and let every stream look for duties. */
  appCreated(): void {
    this.#candidates = undefined;
    for (const m of this.#members) m.checkWarm().catch(() => {});
  }
}
