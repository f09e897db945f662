/**
 * A worker's figures for the control plane's /metrics: running totals kept
 * by its pools and function cache, sent with each heartbeat (the control plane
 * and the worker share no memory).
 */

import { type EventLog, silentEventLog } from "../proto/event_log.ts";

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
