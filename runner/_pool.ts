/**
 * Warm sandboxes of one function: hands out slots (`concurrency` per
 * sandbox), starts sandboxes up to `maxContainers` when inputs wait, keeps
 * `minContainers`, and stops sandboxes idle past `scaledownWindowMs`.
 */
import type { Clock, TimerHandle } from "../proto/clock.ts";
import type { DoneMessage } from "./_protocol.ts";
import type { Runner } from "./runner.ts";
import { WarmSandbox, type WebStream } from "./_warm_sandbox.ts";
import { queueWindow, RunTime } from "./_window.ts";
import type { Resources } from "./_resources.ts";
import type { ContainerCounts, WorkerFigures } from "./_figures.ts";
import { warmTarget } from "./_scaling.ts";
import { type PoolOptions, type PoolSpec, SCALE_UP_AFTER_MS } from "./_pool_spec.ts";
import { type Waiter, WaiterQueue } from "./_waiters.ts";
import { containerEvent, countSandboxes, leastBusy, sandboxSpec } from "./_pool_parts.ts";

export { type PoolOptions, type PoolSpec, SCALE_UP_AFTER_MS };

let counter = 0;

/** The warm sandboxes of one function on this worker. */
export class FunctionPool {
  readonly spec: PoolSpec;
  readonly #runner: Runner;
  readonly #clock: Clock;
  readonly #sandboxes: WarmSandbox[] = [];
  readonly #busy = new Map<WarmSandbox, number>();
  /** Inputs waiting for a slot, oldest first. */
  readonly #waiters = new WaiterQueue();
  #scaleTimer: TimerHandle | undefined;
  #starting = 0;
  #closed = false;
  readonly #runTime = new RunTime();
  readonly #resources: Resources | undefined;
  readonly #unsubscribe: () => void;
  readonly #figures: WorkerFigures | undefined;
  #retired = false;
  /** A class's pools, one per instance key (see {@linkcode FunctionPool.instance}). */
  readonly #instances = new Map<string, FunctionPool>();
  #isInstance = false;

  constructor(spec: PoolSpec, options: PoolOptions) {
    this.spec = spec;
    this.#runner = options.runner;
    this.#clock = options.clock;
    this.#figures = options.figures;
    this.#resources = options.resources;
    // Room freed by any pool of this worker: inputs waiting here may get a sandbox now.
    this.#unsubscribe = this.#resources?.onFreed(() => {
      if (this.#waiting > 0) this.#maybeScaleUp();
    }) ?? (() => {});
  }

  /** Sandboxes by state: idle, busy with inputs, starting. */
  counts(): ContainerCounts {
    return countSandboxes(this.#sandboxes, this.#busy, this.#starting);
  }

  get #concurrency(): number {
    return Math.max(1, this.spec.def.concurrency);
  }

  /** Inputs a sandbox may hold: `concurrency` running plus a window queued there (pipelining). */
  get #slots(): number {
    const c = this.#concurrency;
    return c + queueWindow(c, this.#runTime.mean, this.spec.def.timeoutMs);
  }

  /** Sandboxes alive now. */
  get size(): number {
    return this.#sandboxes.filter((s) => s.alive).length;
  }

  /**
   * Runs one input. `onSandbox` learns which sandbox runs it (to kill it on
   * timeout), when the input starts there (it may first wait in the sandbox's queue). Rejects with the runner's errors if the sandbox dies or fails to start.
   */
  async run(
    id: string,
    args: Uint8Array,
    onSandbox?: (sandbox: WarmSandbox) => void,
    web?: WebStream,
  ): Promise<DoneMessage> {
    const sandbox = await this.#slot();
    try {
      // `onSandbox` runs once the input starts in the sandbox, not while it waits queued there.
      const onStart = onSandbox && (() => onSandbox(sandbox));
      const done = await sandbox.run(id, this.spec.def.name, args, this.#concurrency, onStart, web);
      this.#runTime.add(done.ms);
      return done;
    } finally {
      this.#busy.set(sandbox, (this.#busy.get(sandbox) ?? 1) - 1);
      this.#dispatch();
    }
  }

  /**
   * The pool of one instance of a class (one key per constructor argument
   * list): each instance has containers of its own. Scaling down and closing
   * this pool covers them.
   */
  instance(key: string): FunctionPool {
    let pool = this.#instances.get(key);
    if (!pool) {
      pool = new FunctionPool(this.spec, {
        runner: this.#runner,
        clock: this.#clock,
        figures: this.#figures,
      });
      pool.#isInstance = true;
      this.#instances.set(key, pool);
    }
    return pool;
  }

  /** How long a stopping sandbox may run its exit hooks. */
  get #graceMs(): number {
    return this.spec.def.cls?.exitGraceMs ?? 0;
  }

  /** Announces a container event on the worker's event log. */
  #event(kind: string, sandbox: WarmSandbox, what: string): void {
    containerEvent(this.#figures, this.spec, { kind, sandbox: sandbox.id, what });
  }

  /** Kills one sandbox (its other inputs fail and are retried elsewhere). */
  async kill(sandbox: WarmSandbox): Promise<void> {
    this.#event("container.stopped", sandbox, "killed (timeout)");
    this.#remove(sandbox);
    await sandbox.stop();
    this.#dispatch();
  }

  /** Keeps no sandbox warm any more: each stops once idle (its app was redeployed). */
  retire(): void {
    this.#retired = true;
    for (const p of this.#instances.values()) p.retire();
  }

  /** Stops sandboxes idle past the scale-down window, keeping `minContainers`. */
  async scaleDown(): Promise<void> {
    await Promise.all([...this.#instances.values()].map((p) => p.scaleDown()));
    // A class's own pool runs nothing: its instances hold the containers.
    if (this.spec.def.cls && !this.#isInstance) return;
    const nowMs = this.#clock.now();
    const minContainers = this.#warmTarget();
    const scaledownWindowMs = this.#retired ? 0 : this.spec.def.scaledownWindowMs;
    let alive = this.#prune();
    for (const sandbox of [...this.#sandboxes]) {
      if (alive <= minContainers) break;
      if (
        (this.#busy.get(sandbox) ?? 0) === 0 && nowMs - sandbox.idleSinceMs >= scaledownWindowMs
      ) {
        this.#remove(sandbox);
        alive--;
        this.#event("container.stopped", sandbox, "stopped (idle)");
        await sandbox.stop(this.#graceMs);
      }
    }
    this.#topUp();
  }

  /** Sandboxes to keep warm now (see {@linkcode warmTarget}). */
  #warmTarget(): number {
    if (this.#retired || (this.spec.def.cls && !this.#isInstance)) return 0;
    const d = this.spec.def;
    return warmTarget({
      min: d.minContainers,
      buffer: d.bufferContainers,
      max: d.maxContainers,
      busy: this.counts().busy,
    });
  }

  /** Starts sandboxes up to the warm target: minContainers, or busy + bufferContainers. */
  #topUp(): void {
    if (this.#closed) return;
    const target = this.#warmTarget();
    let alive = this.#prune() + this.#starting;
    // minContainers start regardless of free cores (as the first sandbox does); the buffer only if it fits.
    while (
      alive < target && this.#room() && (alive < this.spec.def.minContainers || this.#fits())
    ) {
      this.#startOne();
      alive++;
    }
  }

  /** Starts minContainers sandboxes now, before any input (the app was deployed or started). */
  warm(): void {
    this.#topUp();
  }

  /** Stops every sandbox; waiting inputs fail. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#scaleTimer !== undefined) this.#clock.clearTimeout(this.#scaleTimer);
    this.#scaleTimer = undefined;
    for (const w of this.#takeWaiters()) w.reject(new Error("The function's app stopped"));
    this.#unsubscribe();
    for (const s of this.#sandboxes) this.#event("container.stopped", s, "stopped");
    const stopping = this.#sandboxes.splice(0);
    for (const _ of stopping) this.#unreserve();
    const instances = [...this.#instances.values()].map((p) => p.close());
    this.#instances.clear();
    await Promise.allSettled([...instances, ...stopping.map((s) => s.stop(this.#graceMs))]);
  }

  #slot(): Promise<WarmSandbox> {
    if (this.#closed) return Promise.reject(new Error("The function's app stopped"));
    const waiter = { ...Promise.withResolvers<WarmSandbox>(), sinceMs: this.#clock.now() };
    this.#waiters.push(waiter);
    this.#dispatch();
    return waiter.promise;
  }

  get #waiting(): number {
    return this.#waiters.size;
  }

  #takeWaiters(from = 0): Waiter[] {
    return this.#waiters.takeFrom(from);
  }

  #dispatch(): void {
    this.#prune();
    const slots = this.#slots;
    while (this.#waiting > 0) {
      // The least busy sandbox: queued windows spread instead of piling on the first.
      const free = this.#leastBusy(slots);
      if (!free) break;
      this.#busy.set(free, (this.#busy.get(free) ?? 0) + 1);
      this.#waiters.shift()!.resolve(free);
    }
    this.#maybeScaleUp();
    this.#topUp();
  }

  /**
   * Starts a sandbox at once when there is none. Otherwise, once the oldest
   * waiting input has waited {@linkcode SCALE_UP_AFTER_MS}, starts as many as
   * the backlog needs, as far as maxContainers and the worker's free cores and
   * memory allow (pools are woken when room is freed).
   */
  #maybeScaleUp(): void {
    if (!this.#room() || this.#waiting <= this.#starting * this.#concurrency || this.#closed) {
      return;
    }
    if (this.#sandboxes.length === 0 && this.#starting === 0) return this.#startOne();
    if (this.#starting > 0 || this.#scaleTimer || !this.#fits()) return;
    const waited = this.#clock.now() - this.#waiters.oldest()!.sinceMs;
    this.#scaleTimer = this.#clock.setTimeout(() => {
      this.#scaleTimer = undefined;
      if (this.#waiting === 0 || this.#starting > 0 || this.#closed) return;
      if (this.#clock.now() - this.#waiters.oldest()!.sinceMs < SCALE_UP_AFTER_MS) {
        return this.#maybeScaleUp();
      }
      const need = Math.max(1, Math.ceil(this.#waiting / this.#slots));
      for (let i = 0; i < need && this.#room() && this.#fits(); i++) this.#startOne();
    }, Math.max(0, SCALE_UP_AFTER_MS - waited));
  }

  /** Under maxContainers. */
  #room(): boolean {
    return this.#sandboxes.length + this.#starting < Math.max(1, this.spec.def.maxContainers);
  }

  /** Another sandbox's cores and memory fit in what the worker has free. */
  #fits(): boolean {
    const { cpu, memoryMib } = this.spec.def;
    return this.#resources?.fits(cpu, memoryMib) ?? true;
  }

  #unreserve(): void {
    this.#resources?.release(this.spec.def.cpu, this.spec.def.memoryMib);
  }

  /** The alive sandbox with the fewest inputs, if it has room under `slots`. */
  #leastBusy(slots: number): WarmSandbox | undefined {
    return leastBusy(this.#sandboxes, this.#busy, slots);
  }

  #startOne(): void {
    // Callers checked the fit; a function's first sandbox (and minContainers) start regardless.
    this.#resources?.reserve(this.spec.def.cpu, this.spec.def.memoryMib, true);
    this.#starting++;
    const s = this.spec;
    WarmSandbox.start(this.#runner, sandboxSpec(s, ++counter), {
      rootDir: s.rootDir,
      clock: this.#clock,
      onNested: s.onNested,
    }).then((sandbox) => {
      this.#starting--;
      if (this.#figures) {
        this.#figures.coldStarts++;
        this.#event("container.started", sandbox, "started");
      }
      if (this.#closed) {
        this.#unreserve();
        sandbox.stop();
        return;
      }
      this.#sandboxes.push(sandbox);
      this.#busy.set(sandbox, 0);
      this.#dispatch();
    }, (err) => {
      this.#starting--;
      // Every start would fail the same way (a broken module, an image that
      // cannot be built): fail the inputs waiting beyond other sandboxes' reach.
      if (this.#prune() === 0) {
        for (const w of this.#takeWaiters(this.#starting * this.#concurrency)) w.reject(err);
      }
      // After failing the waiters: the room freed wakes pools, this one included.
      this.#unreserve();
      this.#dispatch();
    });
  }

  #prune(): number {
    for (const s of [...this.#sandboxes]) {
      if (s.alive) continue;
      if (this.#figures) {
        this.#figures.sandboxDeaths++;
        this.#event("container.died", s, "died");
      }
      this.#remove(s);
    }
    return this.#sandboxes.length;
  }

  #remove(sandbox: WarmSandbox): void {
    const i = this.#sandboxes.indexOf(sandbox);
    if (i >= 0) {
      this.#sandboxes.splice(i, 1);
      this.#unreserve();
    }
    this.#busy.delete(sandbox);
  }
}
