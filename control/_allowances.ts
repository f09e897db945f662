/**
 * The arithmetic of a cluster-wide `maxContainers`: how many containers of one
 * function one worker may run, given what every other worker holds and wants.
 * Pure (no store, no clock): `_cluster_share.ts` feeds it from the store.
 *
 * The rule, for the worker W being answered:
 * - Every other worker keeps what it holds (its containers, or a larger
 *   allowance it may not have acted on yet): W never gets more than
 *   `max - Σ others' holdings`, so the holdings never add up past `max`.
 * - The workers that want containers share `max` fairly (max-min: each gets
 *   up to its demand, the rest goes to those that want more, ties to the lower
 *   worker id), so two workers that both see a backlog split it instead of
 *   each taking all of it.
 * - While another worker is short of its fair share, W is cut to its own fair
 *   share (its idle containers above it stop); otherwise W keeps the containers
 *   it has even when idle, and may grow up to its demand.
 */

/** One worker's position on one function. */
export interface Claim {
  /** The worker. */
  workerId: string;
  /** Containers it may be running now: its containers, or a larger allowance not yet acknowledged. */
  holding: number;
  /** Containers it would run if it could (see {@linkcode demandOf}). */
  demand: number;
}

/** What a worker's demand for one function is made of. */
export interface DemandInputs {
  /** Inputs of the function the worker holds (running or waiting). */
  held: number;
  /** Inputs one container runs at once. */
  concurrency: number;
  /** `bufferContainers`: idle containers kept beside busy ones. */
  buffer: number;
  /** `minContainers`, when this worker holds the function's warm duty; else 0. */
  warm: number;
  /** `maxContainers`. */
  max: number;
}

/** Containers a worker wants for a function: enough for its inputs plus the buffer, or its warm duty. */
export function demandOf(d: DemandInputs): number {
  const forInputs = d.held > 0 ? Math.ceil(d.held / Math.max(1, d.concurrency)) + d.buffer : 0;
  return Math.max(0, Math.min(Math.max(1, d.max), Math.max(d.warm, forInputs)));
}

/**
 * Max-min fair shares of `max` containers between claims, each capped by its
 * demand; units left after the demands are met stay unshared.
 */
export function fairShares(max: number, claims: Claim[]): Map<string, number> {
  const order = [...claims].sort((a, b) => a.workerId < b.workerId ? -1 : 1);
  const shares = new Map(order.map((c) => [c.workerId, 0]));
  let left = Math.max(0, max);
  while (left > 0) {
    let pick: Claim | undefined;
    for (const c of order) {
      if (shares.get(c.workerId)! >= c.demand) continue;
      if (!pick || shares.get(c.workerId)! < shares.get(pick.workerId)!) pick = c;
    }
    if (!pick) break;
    shares.set(pick.workerId, shares.get(pick.workerId)! + 1);
    left--;
  }
  return shares;
}

/**
 * Containers `self` may run: its fair share while another worker is short
 * of its own, else up to its demand (and at least what it runs), never past
 * what the others' holdings leave of `max`.
 */
export function allowanceFor(self: Claim & { containers: number }, options: {
  max: number;
  others: Claim[];
}): number {
  const max = Math.max(1, options.max);
  const others = options.others.filter((c) => c.workerId !== self.workerId);
  const left = max - others.reduce((sum, c) => sum + Math.max(0, c.holding), 0);
  const shares = fairShares(max, [...others, self]);
  const othersShort = others.some((c) => c.holding < shares.get(c.workerId)!);
  const wanted = othersShort ? shares.get(self.workerId)! : Math.max(self.containers, self.demand);
  return Math.max(0, Math.min(left, wanted));
}
