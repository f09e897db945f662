/**
 * The autoscaler's loop: every interval it reads queue depth and workers from
 * the control plane (the `GetStats` RPC, over the wire), asks the
 * {@linkcode Decider} what to change, and has the {@linkcode Driver} do it,
 * logging one line per decision.
 * @module
 */
import type { Clock } from "../proto/clock.ts";
import type { Driver, Unit } from "./driver.ts";
import {
  Decider,
  type Decision,
  type ScalePolicy,
  type Snapshot,
  type WorkerLoad,
} from "./policy.ts";

/** What the control plane reports, reduced to what the loop needs. */
export interface ClusterStats {
  /** Inputs waiting for a worker, over all functions. */
  queued: number;
  /** Live workers and what they hold. */
  workers: WorkerLoad[];
}

/** Options for {@linkcode Autoscaler}. */
export interface AutoscalerOptions {
  /** Starts, finds and drains workers. */
  driver: Driver;
  /** Reads the control plane's stats (see `readStats`). */
  stats: () => Promise<ClusterStats>;
  /** Bounds and thresholds. */
  policy: ScalePolicy;
  /** Time for ticks and idle tracking. */
  clock: Clock;
  /** Time between ticks. @default 2_000 */
  intervalMs?: number;
  /** One line per decision or problem. @default console.error */
  log?: (line: string) => void;
  /** Told each decision (the CLI reports it to the control plane's /metrics); must not throw. */
  onDecision?: (decision: Decision) => void;
}

/**
 * Keeps the driver's workers between `min` and `max`, following the queue.
 *
 * @example
 * ```ts ignore
 * const scaler = new Autoscaler({ driver, stats, policy, clock: systemClock });
 * await scaler.run(AbortSignal.timeout(60_000));
 * ```
 */
export class Autoscaler {
  readonly #options: AutoscalerOptions;
  readonly #decider: Decider;
  readonly #log: (line: string) => void;
  #lastProblem = "";

  /** Prepares a loop; nothing runs until {@linkcode Autoscaler.tick} or {@linkcode Autoscaler.run}. */
  constructor(options: AutoscalerOptions) {
    this.#options = options;
    this.#decider = new Decider(options.policy, options.clock);
    this.#log = options.log ?? ((line) => console.error(line));
  }

  /** One look and at most one change; returns the decision taken, if any. */
  async tick(): Promise<Decision | undefined> {
    const { driver } = this.#options;
    const [stats, units] = await Promise.all([this.#options.stats(), driver.list()]);
    const snap = snapshot(driver, stats, units);
    const decision = this.#decider.decide(snap);
    if (!decision) return undefined;
    this.#log(
      `autoscaler: ${
        decision.to > decision.from ? "scale up" : "scale down"
      } ${decision.from} → ${decision.to} workers (${decision.reason})`,
    );
    this.#options.onDecision?.(decision);
    if (decision.start > 0) await driver.start(decision.start);
    if (decision.stop.length) {
      await driver.stop(units.filter((u) => decision.stop.includes(u.id)));
    }
    return decision;
  }

  /** Ticks every interval until `signal` aborts; a failed tick is logged once and retried. */
  async run(signal: AbortSignal): Promise<void> {
    const { clock } = this.#options;
    while (!signal.aborted) {
      try {
        await this.tick();
        if (this.#lastProblem) this.#log("autoscaler: control plane reachable again");
        this.#lastProblem = "";
      } catch (err) {
        const problem = (err as Error).message;
        if (problem !== this.#lastProblem) this.#log(`autoscaler: tick failed: ${problem}`);
        this.#lastProblem = problem;
      }
      await clock.sleep(this.#options.intervalMs ?? 2_000, signal).catch(() => {});
    }
  }
}

/** Pairs the driver's units with the workers the control plane reports. */
export function snapshot(driver: Driver, stats: ClusterStats, units: Unit[]): Snapshot {
  const claimed = new Set<string>();
  const loads = units.filter((u) => !u.draining).map((u) => {
    const worker = stats.workers.find((w) => !claimed.has(w.workerId) && driver.matches(u, w));
    if (worker) claimed.add(worker.workerId);
    return { id: u.id, worker };
  });
  // Workers of draining units take nothing new: they are neither ours nor others.
  for (const u of units.filter((u) => u.draining)) {
    for (const w of stats.workers) if (driver.matches(u, w)) claimed.add(w.workerId);
  }
  return {
    queued: stats.queued,
    units: loads,
    others: stats.workers.filter((w) => !claimed.has(w.workerId)),
  };
}
