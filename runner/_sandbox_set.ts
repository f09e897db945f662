/**
 * The sandboxes of one {@linkcode FunctionPool} (`_pool.ts`) and how many
 * inputs each holds: the bookkeeping half of a pool, without its policy.
 */
import type { WarmSandbox } from "./_warm_sandbox.ts";
import type { ContainerCounts } from "./_figures.ts";
import { countSandboxes, leastBusy } from "./_pool_parts.ts";
import { type IdleRule, idleToStop } from "./_scaling.ts";

/** What a {@linkcode SandboxSet} tells its pool. */
export interface SandboxSetHooks {
  /** A sandbox left the set (its cores and memory may be given back). */
  removed: (sandbox: WarmSandbox) => void;
  /** A sandbox was found dead by {@linkcode SandboxSet.prune}. */
  died: (sandbox: WarmSandbox) => void;
}

/** Sandboxes, their load (inputs handed to each) and how many are starting. */
export class SandboxSet {
  readonly #list: WarmSandbox[] = [];
  readonly #load = new Map<WarmSandbox, number>();
  readonly #hooks: SandboxSetHooks;
  /** Sandboxes being started, not yet in the set. */
  starting = 0;

  constructor(hooks: SandboxSetHooks) {
    this.#hooks = hooks;
  }

  /** Sandboxes in the set, alive or not yet pruned. */
  get length(): number {
    return this.#list.length;
  }

  /** Sandboxes alive now. */
  get alive(): number {
    return this.#list.filter((s) => s.alive).length;
  }

  /** Sandboxes by state: idle, busy with inputs, starting. */
  counts(): ContainerCounts {
    return countSandboxes(this.#list, this.#load, this.starting);
  }

  /** A started sandbox joins, with no inputs. */
  add(sandbox: WarmSandbox): void {
    this.#list.push(sandbox);
    this.#load.set(sandbox, 0);
  }

  /** Inputs handed to `sandbox` and not yet finished. */
  load(sandbox: WarmSandbox): number {
    return this.#load.get(sandbox) ?? 0;
  }

  /** Hands the alive sandbox with the fewest inputs one more, if one has fewer than `slots`. */
  take(slots: number): WarmSandbox | undefined {
    const free = leastBusy(this.#list, this.#load, slots);
    if (free) this.#load.set(free, this.load(free) + 1);
    return free;
  }

  /** One input of `sandbox` finished. */
  give(sandbox: WarmSandbox): void {
    if (this.#load.has(sandbox)) this.#load.set(sandbox, this.load(sandbox) - 1);
  }

  /** A copy of the sandboxes, oldest first. */
  list(): WarmSandbox[] {
    return [...this.#list];
  }

  /** Removes the dead sandboxes; returns how many are left. */
  prune(): number {
    // Called for every input: no copy unless one died.
    if (this.#list.every((s) => s.alive)) return this.#list.length;
    for (const s of this.list()) {
      if (s.alive) continue;
      this.#hooks.died(s);
      this.remove(s);
    }
    return this.#list.length;
  }

  /** Prunes, then takes out and returns the idle sandboxes `rule` says stop (see {@linkcode idleToStop}). */
  removeIdle(rule: Omit<IdleRule<WarmSandbox>, "load">): WarmSandbox[] {
    this.prune();
    const stop = idleToStop(this.list(), { ...rule, load: (s) => this.load(s) });
    for (const s of stop) this.remove(s);
    return stop;
  }

  /** Takes `sandbox` out of the set. */
  remove(sandbox: WarmSandbox): void {
    const i = this.#list.indexOf(sandbox);
    if (i >= 0) {
      this.#list.splice(i, 1);
      this.#hooks.removed(sandbox);
    }
    this.#load.delete(sandbox);
  }

  /** Empties the set, returning what it held. */
  clear(): WarmSandbox[] {
    const all = this.#list.splice(0);
    for (const s of all) this.#hooks.removed(s);
    this.#load.clear();
    return all;
  }
}
