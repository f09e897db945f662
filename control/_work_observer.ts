/**
 * What the worker service tells the rest of the control plane about its
 * workers (metrics, the event log, the dashboard's recent calls). Every
 * method is synchronous and must not throw: the work stream does not wait.
 * @module
 */
import type { InputRecord, WorkerRecord } from "./store/mod.ts";

/** Hears what workers do. */
export interface WorkObserver {
  /** A worker's stream opened. */
  workerJoined(worker: WorkerRecord): void;
  /** A worker's stream ended; `requeued` inputs it held run again elsewhere. */
  workerLeft(workerId: string, requeued: number): void;
  /** A heartbeat, with the worker's figures. */
  workerHeartbeat(workerId: string, figures: Record<string, number>): void;
  /** Inputs handed to a worker. */
  inputsLeased(inputs: InputRecord[]): void;
  /** An input finished; `output` is its encoded `Output`. */
  inputFinished(workerId: string, functionId: string, inputId: string, output: Uint8Array): void;
  /** Inputs a worker handed back because their sandbox died. */
  inputsRequeued(workerId: string, count: number, why: string): void;
}

/** An observer that ignores everything. */
export const workObserverNone: WorkObserver = {
  workerJoined() {},
  workerLeft() {},
  workerHeartbeat() {},
  inputsLeased() {},
  inputFinished() {},
  inputsRequeued() {},
};
