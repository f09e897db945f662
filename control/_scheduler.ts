/**
 * Schedules: runs the scheduled functions of deployed apps, one call per
 * tick. Ticks come from the function's cron expression (croner) or its
 * `everyMs`, read off the injected clock. No backfill: after downtime only the
 * latest tick that passed runs; a run still going does not hold back the next.
 * Across control planes, `claim` decides which one runs a tick (a lease in
 * the store): exactly one gets `true` for each (function, tick).
 */
import type { Clock, TimerHandle } from "../proto/clock.ts";
import { Cron } from "./_deps.ts";

/** One function with a schedule. */
export interface ScheduledFunction {
  /** The function id (a redeploy brings new ids, hence the new schedule). */
  functionId: string;
  appId: string;
  name: string;
  schedule: { cron: string; timezone: string; everyMs: number };
}

/** What the scheduler works on. */
export interface SchedulerDeps {
  clock: Clock;
  /** Scheduled functions of running deployed apps. */
  list(): Promise<ScheduledFunction[]>;
  /** True for exactly one caller per (function, tick), across control planes. */
  claim(functionId: string, tickMs: number): Promise<boolean>;
  /** Starts one run (a call with no arguments). */
  run(fn: ScheduledFunction, tickMs: number): Promise<void>;
  /** How often the schedules are checked. @default 1_000 */
  pollMs?: number;
  /** Where failures are reported. @default console.error */
  onError?: (message: string) => void;
}

/** The latest tick of `schedule` at or before `nowMs`, after `afterMs`; undefined if none. */
export function latestTick(
  schedule: ScheduledFunction["schedule"],
  afterMs: number,
  nowMs: number,
): number | undefined {
  if (schedule.everyMs > 0) {
    const tick = Math.floor(nowMs / schedule.everyMs) * schedule.everyMs;
    return tick > afterMs ? tick : undefined;
  }
  const cron = new Cron(schedule.cron, { timezone: schedule.timezone || "UTC", paused: true });
  let tick: number | undefined;
  let from = new Date(afterMs);
  // Bounded: a minutely cron over a long outage only needs the last tick.
  for (let i = 0; i < 100_000; i++) {
    const next = cron.nextRun(from);
    if (!next || next.getTime() > nowMs) break;
    tick = next.getTime();
    from = next;
  }
  cron.stop();
  return tick;
}

/** Runs schedules until stopped. */
export class Scheduler {
  readonly #deps: SchedulerDeps;
  /** The last tick handled per function id (the first sighting records "now": no backfill). */
  readonly #last = new Map<string, number>();
  #timer?: TimerHandle;
  #stopped = false;
  /** Set while reading schedules fails, so an outage is reported once, not every poll. */
  #listFailing = false;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
  }

  /** Starts polling. */
  start(): void {
    const loop = () => {
      if (this.#stopped) return;
      this.poll().finally(() => {
        if (!this.#stopped) {
          this.#timer = this.#deps.clock.setTimeout(loop, this.#deps.pollMs ?? 1_000);
        }
      });
    };
    loop();
  }

  /** Stops polling. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
  }

  /** Checks every schedule once: runs each function whose tick passed since the last check. */
  async poll(): Promise<void> {
    const report = this.#deps.onError ?? ((m: string) => console.error(m));
    let fns: ScheduledFunction[];
    try {
      fns = await this.#deps.list();
    } catch (err) {
      if (this.#listFailing) return;
      this.#listFailing = true;
      return report(`nano-modal server: reading schedules failed: ${(err as Error).message}`);
    }
    this.#listFailing = false;
    const now = this.#deps.clock.now();
    const seen = new Set<string>();
    for (const fn of fns) {
      seen.add(fn.functionId);
      const last = this.#last.get(fn.functionId);
      if (last === undefined) {
        this.#last.set(fn.functionId, now);
        continue;
      }
      let tick: number | undefined;
      try {
        tick = latestTick(fn.schedule, last, now);
      } catch (err) {
        report(`nano-modal server: schedule of ${fn.name} is invalid: ${(err as Error).message}`);
        continue;
      }
      if (tick === undefined) continue;
      this.#last.set(fn.functionId, tick);
      try {
        if (await this.#deps.claim(fn.functionId, tick)) await this.#deps.run(fn, tick);
      } catch (err) {
        report(`nano-modal server: scheduled run of ${fn.name} failed: ${(err as Error).message}`);
      }
    }
    for (const id of this.#last.keys()) if (!seen.has(id)) this.#last.delete(id);
  }
}
