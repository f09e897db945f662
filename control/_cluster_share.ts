/**
 * One worker stream's share of the cluster: how many containers of each
 * function its worker may run (`maxContainers` counts across the cluster; the
 * arithmetic is `_allowances.ts`) and which functions' `minContainers` it
 * keeps warm (`_warm_duty.ts`).
 *
 * Everything is read from the store's worker records, never from this control
 * plane's memory, so with Redis every control plane sees every worker. A
 * stream's record carries what its worker may be running (`allowed`: the
 * largest allowance it was sent and has not yet acknowledged as replaced) and
 * its warm duties (`warm`). An allowance is written to the store before it is
 * sent, and a lowered one counts at its old value until the worker's heartbeat
 * says it applied it (`allowance_seq`): at no moment do the holdings in the
 * store add up to less than what workers may run. On one control plane the
 * computations run one at a time (the board's lock); two control planes that
 * answer two workers in the same few milliseconds can still over-grant once,
 * until the next heartbeat corrects it.
 */
import { create } from "../proto/deps.ts";
import {
  type FunctionDef,
  type GetFunctionResponse,
  type WorkerCommand,
  WorkerCommandSchema,
} from "../proto/messages.ts";
import type { Clock, TimerHandle } from "../proto/clock.ts";
import { ALLOWANCE_SEQ_FIGURE } from "../proto/heartbeat_figures.ts";
import type { Store, WorkerRecord } from "./store/mod.ts";
import { allowanceFor, type Claim, demandOf } from "./_allowances.ts";
import { takeWarmDuties, WARM_HOLDER_STALE_MS } from "./_warm_duty.ts";
import type { ShareBoard } from "./_share_board.ts";

/** How often a stream whose worker wants more containers than it may run asks again. */
export const UNMET_RETRY_MS = 1_000;

/**
 * How long a container started ahead of its app's first input keeps its allowance without
 * the worker reporting it: a few heartbeats.
 */
export const PRESTART_HOLD_MS = 10_000;

/** What a stream's share reads and where it reports. */
export interface ClusterShareOptions {
  workerId: string;
  store: Store;
  clock: Clock;
  /** A worker silent for longer no longer counts (its inputs are requeued by then). */
  leaseMs: number;
  board: ShareBoard;
  describe: (functionId: string) => Promise<GetFunctionResponse | undefined>;
  /** Inputs the worker holds, per function id. */
  held: () => Record<string, number>;
  /** Containers per function id, as the worker last reported. */
  containers: () => Record<string, number>;
  /** Sends a command to the worker. */
  send: (cmd: WorkerCommand) => void;
  /** Writes the worker's record (with {@linkcode ClusterShare.fields}). */
  save: () => Promise<void>;
}

/** A stream's allowances and warm duties. */
export class ClusterShare {
  readonly #o: ClusterShareOptions;
  #granted: Record<string, number> = {};
  /** Allowances sent, from the last one the worker acknowledged on. */
  #sent: { seq: number; grants: Record<string, number> }[] = [];
  #seq = 0;
  readonly #duty = new Set<string>();
  /** Functions whose first container the worker was asked to start before any input: until when. */
  readonly #prestart = new Map<string, number>();
  readonly #unmet = new Set<string>();
  #retry?: TimerHandle;
  #draining = false;
  #closed = false;
  readonly #removeFromBoard: () => void;

  /** The worker whose share it is. */
  get workerId(): string {
    return this.#o.workerId;
  }

  constructor(options: ClusterShareOptions) {
    this.#o = options;
    this.#removeFromBoard = options.board.add(this);
  }

  /** The share's part of the worker's record. */
  fields(): Pick<WorkerRecord, "allowed" | "warm"> {
    const allowed: Record<string, number> = {};
    for (const { grants } of this.#sent) {
      for (const [id, n] of Object.entries(grants)) allowed[id] = Math.max(allowed[id] ?? 0, n);
    }
    return { allowed, warm: [...this.#duty] };
  }

  /** A heartbeat's figures: forgets the allowances the worker has replaced (call before saving). */
  acknowledge(figures: Record<string, number>): void {
    const acked = figures[ALLOWANCE_SEQ_FIGURE];
    if (acked !== undefined) this.#sent = this.#sent.filter((s) => s.seq >= acked);
  }

  /** After a heartbeat was saved: checks every function's allowance and the warm duties again. */
  async heartbeat(): Promise<void> {
    const now = this.#o.clock.now();
    const lapsed = [...this.#prestart].filter(([, until]) => until <= now).map(([id]) => id);
    for (const id of lapsed) this.#prestart.delete(id);
    const ids = new Set([
      ...lapsed,
      ...Object.keys(this.#granted),
      ...Object.keys(this.#o.containers()),
      ...Object.keys(this.#o.held()),
      ...this.#duty,
    ]);
    await this.recompute([...ids]);
    await this.checkWarm();
  }

  /** Before inputs of these functions go to the worker: an allowance that covers them. */
  async beforeAssign(functionIds: string[]): Promise<void> {
    const held = this.#o.held();
    const short: string[] = [];
    for (const id of new Set(functionIds)) {
      const def = (await this.#o.describe(id))?.def;
      if (!def || def.cls) continue;
      const want = this.#demand(def, held[id] ?? 0, id);
      if ((this.#granted[id] ?? 0) < want) short.push(id);
    }
    if (short.length) await this.recompute(short);
  }

  /**
   * Before the worker is asked to start these functions' first containers ahead of any input
   * (a new ephemeral app's, see `WorkerHub.functionsStored`): an allowance of one each, held
   * for {@linkcode PRESTART_HOLD_MS}. By then the worker's heartbeat reports the container,
   * which keeps its allowance as any idle container's; one that never started loses it.
   * Returns the functions granted one: only those may start (a worker that never heard an
   * allowance would start one anyway). The others are not asked for again.
   */
  async beforePrestart(functionIds: string[]): Promise<string[]> {
    const until = this.#o.clock.now() + PRESTART_HOLD_MS;
    for (const id of functionIds) this.#prestart.set(id, until);
    await this.beforeAssign(functionIds);
    const granted = functionIds.filter((id) => (this.#granted[id] ?? 0) >= 1);
    for (const id of functionIds) {
      if (granted.includes(id)) continue;
      this.#prestart.delete(id);
      this.#unmet.delete(id);
    }
    return granted;
  }

  /** The worker drains: its warm duties go to others. */
  async drain(): Promise<void> {
    this.#draining = true;
    if (this.#duty.size === 0) return;
    this.#duty.clear();
    await this.#o.save();
  }

  /** Computes these functions' allowances again; sends them if they changed. */
  recompute(functionIds: string[]): Promise<void> {
    if (this.#closed || functionIds.length === 0) return Promise.resolve();
    return this.#o.board.serialize(() => this.#recompute(functionIds));
  }

  async #recompute(functionIds: string[]): Promise<void> {
    const { clock, leaseMs, workerId } = this.#o;
    const liveAfter = clock.now() - leaseMs;
    const others = (await this.#o.store.workers.list())
      .filter((w) => w.workerId !== workerId && w.lastSeenMs >= liveAfter);
    const held = this.#o.held();
    const containers = this.#o.containers();
    const next = { ...this.#granted };
    const newlyUnmet: string[] = [];
    for (const id of functionIds) {
      const def = (await this.#o.describe(id))?.def;
      // A class's maxContainers caps each instance, which the control plane does not see.
      if (!def || def.cls) continue;
      const claims: Claim[] = others.map((w) => ({
        workerId: w.workerId,
        holding: Math.max(w.containers?.[id] ?? 0, w.allowed?.[id] ?? 0),
        demand: demandOf(demandInputs(def, w.running?.[id] ?? 0, w.warm?.includes(id) ?? false)),
      }));
      const mine = containers[id] ?? 0;
      const demand = this.#demand(def, held[id] ?? 0, id);
      const self = { workerId, holding: mine, containers: mine, demand };
      const grant = allowanceFor(self, { max: def.maxContainers, others: claims });
      if (grant < demand && !this.#unmet.has(id)) newlyUnmet.push(id);
      if (grant < demand) this.#unmet.add(id);
      else this.#unmet.delete(id);
      if (grant === 0 && mine === 0 && !held[id]) delete next[id];
      else next[id] = grant;
    }
    if (!sameGrants(next, this.#granted) && !this.#closed) {
      this.#granted = next;
      this.#sent.push({ seq: ++this.#seq, grants: next });
      await this.#o.save();
      this.#o.send(create(WorkerCommandSchema, {
        msg: { case: "allowance", value: { seq: this.#seq, containers: next } },
      }));
    }
    // Workers holding more than their fair share give it back on their next check.
    if (newlyUnmet.length) this.#o.board.nudge(this, newlyUnmet);
    this.#armRetry();
  }

  /** Takes up the warm duties nobody holds that fall to this worker. */
  async checkWarm(): Promise<void> {
    if (this.#closed) return;
    const candidates = await this.#o.board.warmCandidates();
    let dropped = false;
    for (const id of this.#duty) {
      if (!candidates.has(id)) dropped = this.#duty.delete(id);
    }
    if (this.#draining) return;
    const liveAfter = this.#o.clock.now() - WARM_HOLDER_STALE_MS;
    const live = (await this.#o.store.workers.list()).filter((w) => w.lastSeenMs >= liveAfter);
    const took = takeWarmDuties(this.#o.workerId, { candidates, live, held: this.#duty });
    if (took.length === 0) {
      if (dropped) await this.#o.save();
      return;
    }
    for (const id of took) this.#duty.add(id);
    await this.#o.save();
    await this.recompute(took);
    this.#o.send(create(WorkerCommandSchema, {
      msg: { case: "warm", value: { functionIds: took } },
    }));
  }

  /** The stream ended. */
  close(): void {
    this.#closed = true;
    if (this.#retry !== undefined) this.#o.clock.clearTimeout(this.#retry);
    this.#removeFromBoard();
  }

  #demand(def: FunctionDef, held: number, id: string): number {
    const demand = demandOf(demandInputs(def, held, this.#duty.has(id)));
    return this.#prestart.has(id) ? Math.max(demand, 1) : demand;
  }

  /** While the worker wants more than it may run, asks again every {@linkcode UNMET_RETRY_MS}. */
  #armRetry(): void {
    if (this.#retry !== undefined || this.#unmet.size === 0 || this.#closed) return;
    this.#retry = this.#o.clock.setTimeout(() => {
      this.#retry = undefined;
      this.recompute([...this.#unmet]).catch(() => {});
    }, UNMET_RETRY_MS);
  }
}

function demandInputs(def: FunctionDef, held: number, warm: boolean) {
  return {
    held,
    concurrency: def.concurrency,
    buffer: def.bufferContainers,
    warm: warm ? def.minContainers : 0,
    max: def.maxContainers,
  };
}

function sameGrants(a: Record<string, number>, b: Record<string, number>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
