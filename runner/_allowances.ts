/**
 * What the control plane told this worker about its share of the cluster, on
 * the current stream: containers it may run per function (`WorkAllowance`) and
 * the functions whose minContainers it keeps warm (`WorkWarm`). Forgotten when
 * the stream is lost: until the next control plane speaks, a function may
 * start at most {@linkcode UNHEARD_ALLOWANCE} container and none is kept warm.
 */
import type { WorkAllowance } from "../proto/messages.ts";
import { functionContainerFigures, type PoolShare, warmFunctions } from "./_scaling.ts";
import type { FunctionCache } from "./_functions.ts";
import type { WorkStreamHandlers } from "./_work_stream.ts";
import { ALLOWANCE_SEQ_FIGURE } from "../proto/heartbeat_figures.ts";

export { UNHEARD_ALLOWANCE } from "./_scaling.ts";

/** The worker's share of the cluster on its current stream. */
export class Allowances implements PoolShare {
  #heard = false;
  #seq = 0;
  #containers = new Map<string, number>();
  readonly #duty = new Set<string>();

  allowance(functionId: string): number | undefined {
    return this.#heard ? this.#containers.get(functionId) ?? 0 : undefined;
  }

  warmDuty(functionId: string): boolean {
    return this.#duty.has(functionId);
  }

  /**
   * Applies an allowance; returns the functions that may now run more
   * containers than before, and whether any may run fewer.
   */
  apply(msg: WorkAllowance): { raised: string[]; lowered: boolean } {
    const before = this.#heard ? this.#containers : new Map<string, number>();
    const after = new Map(Object.entries(msg.containers));
    const raised = [...after].filter(([id, n]) => n > (before.get(id) ?? 0)).map(([id]) => id);
    const lowered = !this.#heard || [...before].some(([id, n]) => (after.get(id) ?? 0) < n);
    this.#containers = after;
    this.#heard = true;
    this.#seq = msg.seq;
    return { raised, lowered };
  }

  /** Takes up these functions' warm duty. */
  addDuty(functionIds: string[]): void {
    for (const id of functionIds) this.#duty.add(id);
  }

  /**
   * The stream's handlers for warm duties and allowances: pools of functions
   * allowed more containers wake, and a lowered allowance is acknowledged at
   * once (`heartbeat`), since the control plane counts it at its old value until then.
   */
  handlers(
    functions: FunctionCache,
    heartbeat: () => void,
  ): Pick<WorkStreamHandlers, "onWarm" | "onAllowance"> {
    return {
      onWarm: (functionIds) => {
        this.addDuty(functionIds);
        warmFunctions(functions, functionIds);
      },
      onAllowance: (allowance) => {
        const { raised, lowered } = this.apply(allowance);
        functions.wake(raised);
        if (lowered) heartbeat();
      },
    };
  }

  /** A new stream: what the last one said no longer holds. */
  reset(): void {
    this.#heard = false;
    this.#seq = 0;
    this.#containers.clear();
    this.#duty.clear();
  }

  /**
   * What the control plane reads in heartbeats to share out containers: the
   * worker's containers per function, and the last allowance it applied.
   */
  figures(functions: FunctionCache): Record<string, number> {
    return {
      ...functionContainerFigures(functions.containersByFunction()),
      [ALLOWANCE_SEQ_FIGURE]: this.#seq,
    };
  }
}
