/**
 * The seam between the autoscaler's loop and whatever runs workers: child
 * processes, containers on one engine, or a Swarm service. A driver finds its
 * workers again from the outside world (pid files, labels, the service), so
 * the autoscaler keeps no state of its own and a restart adopts them.
 * @module
 */
import type { WorkerLoad } from "./policy.ts";

/** One worker the driver runs. */
export interface Unit {
  /** The driver's own id: a pid, a container id, a task id. */
  id: string;
  /** Asked to drain and not gone yet: neither counted nor drained again. */
  draining: boolean;
}

/** Starts, finds and drains workers. */
export interface Driver {
  /** "process", "docker" or "swarm". */
  readonly name: string;
  /** The driver's workers that are alive now, including those draining. */
  list(): Promise<Unit[]>;
  /** Whether the control plane's `worker` is this unit. */
  matches(unit: Unit, worker: WorkerLoad): boolean;
  /** Starts `count` more workers. */
  start(count: number): Promise<void>;
  /** Drains these workers (SIGTERM, then a kill after the grace period). */
  stop(units: Unit[]): Promise<void>;
  /** Drains every worker and waits until they are gone (`--stop-workers-on-exit`). */
  stopAll(): Promise<void>;
  /** Releases the driver's own resources; its workers keep running. */
  close(): Promise<void>;
}

/** How a driver starts a worker: the control plane, its token and the worker's flags. */
export interface WorkerSpec {
  /** The control plane as the worker reaches it. */
  serverUrl: string;
  /** The server's token, given to workers. */
  token?: string;
  /** `--concurrency` of each worker. */
  concurrency: number;
  /** `--runner` of each worker (unset: the worker's own default). */
  runner?: string;
  /** Seconds a draining worker gets before it is killed. */
  graceSeconds: number;
}
