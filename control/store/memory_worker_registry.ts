/**
 * {@linkcode WorkerRegistry} in this process's memory.
 * @module
 */
import type { WorkerRecord, WorkerRegistry } from "./worker_registry.ts";

/** Workers in memory. */
export class MemoryWorkerRegistry implements WorkerRegistry {
  #workers = new Map<string, WorkerRecord>();

  heartbeat(worker: WorkerRecord): Promise<void> {
    this.#workers.set(worker.workerId, { ...worker });
    return Promise.resolve();
  }

  remove(workerId: string): Promise<void> {
    this.#workers.delete(workerId);
    return Promise.resolve();
  }

  list(): Promise<WorkerRecord[]> {
    return Promise.resolve([...this.#workers.values()].map((w) => ({ ...w })));
  }
}
