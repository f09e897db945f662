/**
 * Live workers as they last reported, for `status` and the autoscaler.
 * @module
 */

/** A worker, as it last reported. */
export interface WorkerRecord {
  /** Chosen by the worker. */
  workerId: string;
  /** Inputs it holds at once. */
  capacity: number;
  /** "docker" or "deno". */
  runner: string;
  /** Where it runs. */
  hostname: string;
  /** When it last reported (ms since the epoch). */
  lastSeenMs: number;
  /** Inputs it holds now (running or waiting for a sandbox). */
  busy?: number;
  /** Inputs it holds now, per function id. */
  running?: Record<string, number>;
  /** Warm sandboxes per function id, as its last heartbeat said. */
  containers?: Record<string, number>;
  /**
   * Containers per function id it may be running: the largest allowance it
   * was sent and has not acknowledged as replaced (see `control/_cluster_share.ts`).
   */
  allowed?: Record<string, number>;
  /** Functions whose minContainers it keeps warm. */
  warm?: string[];
}

/** The registry of workers. All methods are safe to call concurrently. */
export interface WorkerRegistry {
  /** Records (or refreshes) a worker. */
  heartbeat(worker: WorkerRecord): Promise<void>;
  /** Forgets a worker. */
  remove(workerId: string): Promise<void>;
  /** Every recorded worker. */
  list(): Promise<WorkerRecord[]>;
}
