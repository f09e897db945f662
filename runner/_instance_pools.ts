/**
 * A class's pools, one per instance key (one per constructor argument list):
 * each instance of a class has containers of its own, and the class's own
 * pool scales, retires and closes them together.
 */
import type { ContainerCounts } from "./_figures.ts";

/** What {@linkcode InstancePools} needs of a pool. */
export interface InstancePool {
  /** Sandboxes by state. */
  counts(): ContainerCounts;
  /** Keeps nothing warm any more. */
  retire(): void;
  /** Stops idle sandboxes. */
  scaleDown(): Promise<void>;
  /** Wakes inputs waiting for room. */
  warm(): void;
  /** Stops every sandbox. */
  close(): Promise<void>;
}

/** The pools of a class's instances, by instance key, made on first use. */
export class InstancePools<P extends InstancePool> {
  readonly #pools = new Map<string, P>();
  readonly #make: () => P;

  constructor(make: () => P) {
    this.#make = make;
  }

  /** The pool of instance `key`. */
  get(key: string): P {
    let pool = this.#pools.get(key);
    if (!pool) this.#pools.set(key, pool = this.#make());
    return pool;
  }

  /** The instances' sandboxes, added up. */
  counts(): ContainerCounts {
    const sum = { idle: 0, busy: 0, starting: 0 };
    for (const p of this.#pools.values()) {
      const c = p.counts();
      sum.idle += c.idle;
      sum.busy += c.busy;
      sum.starting += c.starting;
    }
    return sum;
  }

  /** Retires every instance's pool. */
  retire(): void {
    for (const p of this.#pools.values()) p.retire();
  }

  /** Wakes every instance's waiting inputs (the worker may run more containers). */
  warm(): void {
    for (const p of this.#pools.values()) p.warm();
  }

  /** Scales every instance's pool down. */
  async scaleDown(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.scaleDown()));
  }

  /** Closes and forgets every instance's pool. */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }
}
