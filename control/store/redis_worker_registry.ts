/**
 * {@linkcode WorkerRegistry} in Redis: a hash of worker id -> JSON.
 * @module
 */
import type { WorkerRecord, WorkerRegistry } from "./worker_registry.ts";
import type { RedisContext } from "./_redis_context.ts";

/** Workers in Redis, seen by every control plane. */
export class RedisWorkerRegistry implements WorkerRegistry {
  #ctx: RedisContext;

  /** Uses the context's connection. */
  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
  }

  heartbeat(worker: WorkerRecord): Promise<void> {
    const json = JSON.stringify(worker);
    return this.#ctx.run(async (r) =>
      void await r.hset(this.#ctx.keys.workers, worker.workerId, json)
    );
  }

  remove(workerId: string): Promise<void> {
    return this.#ctx.run(async (r) => void await r.hdel(this.#ctx.keys.workers, workerId));
  }

  list(): Promise<WorkerRecord[]> {
    return this.#ctx.run(async (r) =>
      (await r.hvals(this.#ctx.keys.workers)).map((raw) => JSON.parse(raw))
    );
  }
}
