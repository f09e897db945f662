/**
 * A worker's figures for the control plane's /metrics: running totals kept
 * by its pools and function cache, sent with each heartbeat (the control plane
 * and the worker share no memory).
 */

import { type EventLog, silentEventLog } from "../proto/event_log.ts";
import type { FunctionCache } from "./_functions.ts";
import { functionContainerFigures } from "./_scaling.ts";

/** Running totals of one worker, and where its pools announce events. */
export class WorkerFigures {
  /** Where containers starting, stopping and dying, and images built, are announced. */
  readonly events: EventLog;
  /** @param events the worker's event log */
  constructor(events: EventLog = silentEventLog) {
    this.events = events;
  }
  /** Sandboxes started (each a cold start for its function). */
  coldStarts = 0;
  /** Sandboxes found dead that nobody stopped (crash, OOM, exit). */
  sandboxDeaths = 0;
  /** Functions whose image had to be built on this worker. */
  imageBuilds = 0;
}

/** Sandboxes of a pool by state. */
export interface ContainerCounts {
  idle: number;
  busy: number;
  starting: number;
}

/** Totals and container counts, as the worker's heartbeat carries them. */
export function heartbeatFigures(
  figures: WorkerFigures,
  functions: FunctionCache,
): Record<string, number> {
  const c = functions.containerCounts();
  return {
    cold_starts: figures.coldStarts,
    sandbox_deaths: figures.sandboxDeaths,
    image_builds: figures.imageBuilds,
    containers_idle: c.idle,
    containers_busy: c.busy,
    containers_starting: c.starting,
    ...functionContainerFigures(functions.containersByFunction()),
  };
}
