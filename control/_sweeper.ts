/**
 * The sweeper: on a timer of the injected clock, requeues inputs whose
 * leases expired (their worker went silent), fails those past their
 * infrastructure retry budget, and forgets calls idle past retention and
 * the apps of runs stopped that long ago. Less often (a minute after it
 * starts, then hourly) it deletes the blobs nothing refers to any more
 * (`_blob_sweep.ts`).
 * @module
 */
import type { Clock, TimerHandle } from "../proto/clock.ts";
import type { Store } from "./store/mod.ts";
import { failExhausted } from "./_outputs.ts";
import { sweepBlobs } from "./_blob_sweep.ts";

/** When the first blob sweep runs after the sweeper starts: not in a short `run`'s life. */
export const FIRST_BLOB_SWEEP_MS = 60_000;
/** Time between blob sweeps. */
export const BLOB_SWEEP_EVERY_MS = 3_600_000;

/** Options for {@linkcode startSweeper}. */
export interface SweeperOptions {
  clock: Clock;
  /** Time between sweeps. */
  intervalMs: number;
  /** Times an input may take down its worker or sandbox. */
  maxInfraAttempts: number;
  /** Where a failed sweep is reported. @default console.error */
  onError?: (error: Error) => void;
}

/** A running sweeper. */
export interface Sweeper {
  /** Sweeps now (also what each tick does). */
  sweepOnce(): Promise<void>;
  /** Stops the timer; a sweep under way finishes on its own. */
  stop(): void;
}

/** Runs one sweep of `store`. */
export async function sweepOnce(store: Store, maxInfraAttempts: number): Promise<void> {
  const report = await store.queue.sweep(maxInfraAttempts);
  await failExhausted(store, report.exhausted, maxInfraAttempts);
  await store.outputs.forgetIdle();
  await store.apps.forgetStopped();
}

/** Sweeps `store` every `intervalMs`, one sweep at a time. */
export function startSweeper(store: Store, options: SweeperOptions): Sweeper {
  const { clock, intervalMs, maxInfraAttempts } = options;
  const onError = options.onError ??
    ((err) => console.error(`nano-modal server: lease sweep failed: ${err.message}`));
  let timer: TimerHandle | undefined;
  let stopped = false;
  let blobSweepMs = clock.now() + FIRST_BLOB_SWEEP_MS;
  let blobSweep: Promise<unknown> | undefined;
  const tick = async () => {
    try {
      await sweepOnce(store, maxInfraAttempts);
    } catch (err) {
      onError(err as Error);
    }
    if (!stopped && !blobSweep && clock.now() >= blobSweepMs) {
      blobSweepMs = clock.now() + BLOB_SWEEP_EVERY_MS;
      // Beside the lease sweeps, not in their way: it reads every app and volume.
      blobSweep = sweepBlobs(store, clock.now())
        .catch((err) => onError(new Error(`unused blobs: ${(err as Error).message}`)))
        .finally(() => blobSweep = undefined);
    }
    if (!stopped) timer = clock.setTimeout(tick, intervalMs);
  };
  timer = clock.setTimeout(tick, intervalMs);
  return {
    sweepOnce: () => sweepOnce(store, maxInfraAttempts),
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
    },
  };
}
