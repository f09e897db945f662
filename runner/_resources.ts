/**
 * Resource-aware placement, on by default: what a worker has (cores, memory)
 * and what its sandboxes reserve (each function's `cpu` and `memoryMiB`). A
 * pool starts a sandbox beyond its first only when the reservation fits, so a
 * worker never runs more CPU than it has (16 × `cpu: 1` on 2 cores was the old
 * behaviour); a function's first sandbox always starts, so no function waits
 * forever behind others (it may then go over, and later starts wait until
 * sandboxes stop). Pools waiting for room are told when some is freed.
 * Inputs that wait on each other still progress: a sandbox waiting on nested
 * calls gives its share back (`_parking.ts`), and a stalled pool starts one
 * more sandbox at a time (`_scale_up.ts`).
 */

/** What a worker can give its sandboxes. */
export interface Capacity {
  /** Cores. */
  cpu: number;
  /** Memory in MiB. */
  memoryMiB: number;
}

/** The cores and memory of this machine. */
export function detectCapacity(): Capacity {
  const cpu = Math.max(1, navigator.hardwareConcurrency || 1);
  let memoryMiB = 1024;
  try {
    memoryMiB = Math.floor(Deno.systemMemoryInfo().total / (1024 * 1024));
  } catch {
    // Not available here: a modest default.
  }
  return { cpu, memoryMiB };
}

/**
 * A worker's {@linkcode Resources}: this machine's capacity, with what `given`
 * sets instead; none (no placement, only maxContainers) when `given` is false.
 */
export function workerResources(
  given: Partial<Capacity> | false | undefined,
): Resources | undefined {
  if (given === false) return undefined;
  const detected = detectCapacity();
  return new Resources({
    cpu: given?.cpu ?? detected.cpu,
    memoryMiB: given?.memoryMiB ?? detected.memoryMiB,
  });
}

/** The reservations of one worker's sandboxes against its capacity. */
export class Resources {
  readonly capacity: Capacity;
  #cpu = 0;
  #memoryMiB = 0;
  #waiters = new Set<() => void>();

  constructor(capacity: Capacity) {
    this.capacity = capacity;
  }

  /** Cores and memory reserved now. */
  get reserved(): Capacity {
    return { cpu: this.#cpu, memoryMiB: this.#memoryMiB };
  }

  /** Whether a reservation of `cpu` cores and `memoryMiB` fits in what is free. */
  fits(cpu: number, memoryMiB: number): boolean {
    // A tiny tolerance: 10 × cpu 0.1 fit in one core despite float sums.
    return this.#cpu + cpu <= this.capacity.cpu + 1e-9 &&
      this.#memoryMiB + memoryMiB <= this.capacity.memoryMiB;
  }

  /** Reserves when it fits (or always with `force`); returns whether it reserved. */
  reserve(cpu: number, memoryMiB: number, force = false): boolean {
    if (!force && !this.fits(cpu, memoryMiB)) return false;
    this.#cpu += cpu;
    this.#memoryMiB += memoryMiB;
    return true;
  }

  /** Gives a reservation back and tells the pools waiting for room. */
  release(cpu: number, memoryMiB: number): void {
    this.#cpu = Math.max(0, this.#cpu - cpu);
    this.#memoryMiB = Math.max(0, this.#memoryMiB - memoryMiB);
    for (const wake of [...this.#waiters]) wake();
  }

  /** Calls `wake` whenever room is freed, until the returned function is called. */
  onFreed(wake: () => void): () => void {
    this.#waiters.add(wake);
    return () => this.#waiters.delete(wake);
  }
}
