/**
 * Warm sandboxes of one function: hands out slots (`concurrency` per
 * sandbox), starts sandboxes up to `maxContainers` when inputs wait, keeps
 * `minContainers`, and stops sandboxes idle past `scaledownWindowMs`.
 */
import type { Clock } from "../proto/clock.ts";
import type { DoneMessage } from "./_protocol.ts";
import { type RunEvents, WarmSandbox, type WebStream } from "./_warm_sandbox.ts";
import { RunTime } from "./_window.ts";
import { Reservation } from "./_reservation.ts";
import type { ContainerCounts, WorkerFigures } from "./_figures.ts";
import { PoolCaps, warmTarget } from "./_scaling.ts";
import { prestartable } from "../proto/prestart.ts";
import {
  type PoolEvents,
  type PoolOptions,
  type PoolRun,
  type PoolSpec,
  SCALE_UP_AFTER_MS,
} from "./_pool_spec.ts";
import { WaiterQueue } from "./_waiters.ts";
import { containerEvent, countStart, sandboxSpec } from "./_pool_parts.ts";
import { SandboxSet } from "./_sandbox_set.ts";
import { InstancePools } from "./_instance_pools.ts";
import { ScaleUp } from "./_scale_up.ts";

export { type PoolEvents, type PoolOptions, type PoolRun, type PoolSpec, SCALE_UP_AFTER_MS };

let counter = 0;

/** The warm sandboxes of one function on this worker. */
export class FunctionPool {
  readonly spec: PoolSpec;
  readonly #clock: Clock;
  readonly #sandboxes: SandboxSet;
  /** Inputs waiting for a slot, oldest first. */
  readonly #waiters = new WaiterQueue();
  readonly #scaleUp: ScaleUp;
  #closed = false;
  readonly #runTime = new RunTime();
  readonly #reservation: Reservation;
  readonly #figures: WorkerFigures | undefined;
  #retired = false;
  readonly #caps: PoolCaps;
  readonly #options: PoolOptions;
  /** A class's pools, one per instance key (see {@linkcode FunctionPool.instance}). */
  readonly #instances = new InstancePools(() => {
    const pool = new FunctionPool(this.spec, { ...this.#options, resources: undefined });
    pool.#isInstance = true;
    return pool;
  });
  #isInstance = false;

  constructor(spec: PoolSpec, options: PoolOptions) {
    this.spec = spec;
    this.#clock = options.clock;
    this.#scaleUp = new ScaleUp(options.clock, {
      state: () => ({
        waiting: this.#waiters.size,
        oldestSinceMs: this.#waiters.oldest()?.sinceMs,
        starting: this.#sandboxes.starting,
        started: this.#sandboxes.length,
        concurrency: this.#concurrency,
        slots: this.slots,
        runs: this.#runTime,
        closed: this.#closed,
      }),
      room: () => this.#room(),
      fits: () => this.#reservation.fits(),
      start: () => this.#startOne(),
    });
    this.#figures = options.figures;
    this.#options = options;
    // A class's maxContainers caps each instance on this worker: the cluster's allowances,
    // counted per function, do not see instances.
    this.#caps = new PoolCaps(spec.def, spec.functionId, spec.def.cls ? undefined : options.share);
    this.#sandboxes = new SandboxSet({
      removed: (s) => this.#reservation.give(s),
      died: (s) => {
        if (!this.#figures) return;
        this.#figures.sandboxDeaths++;
        this.#event("container.died", s, "died");
      },
    });
    // Room freed by any pool of this worker: inputs waiting here may get a sandbox now.
    this.#reservation = new Reservation(options.resources, {
      cpu: spec.def.cpu,
      memoryMib: spec.def.memoryMib,
      onFreed: () => {
        if (this.#waiters.size > 0) this.#scaleUp.check();
      },
    });
  }

  /** Sandboxes by state: idle, busy with inputs, starting (a class's: its instances'). */
  counts(): ContainerCounts {
    if (this.#isClass) return this.#instances.counts();
    return this.#sandboxes.counts();
  }

  get #concurrency(): number {
    return Math.max(1, this.spec.def.concurrency);
  }

  /** Inputs a sandbox may hold: `concurrency` running plus a window queued there (pipelining). */
  get slots(): number {
    const c = this.#concurrency;
    return c + this.#runTime.window(c, this.spec.def);
  }

  /** Sandboxes alive now. */
  get size(): number {
    return this.#sandboxes.alive;
  }

  /**
   * Runs one input. `onSandbox` learns which sandbox runs it (to kill it on timeout), when the
   * input starts there. Rejects with the runner's errors if the sandbox dies or fails to start.
   */
  run(id: string, args: Uint8Array, options: PoolRun = {}): Promise<DoneMessage> {
    return new Promise((done, failed) =>
      this.start(id, args, { onSandbox: options.onSandbox, done, failed }, options.web)
    );
  }

  /** Runs one input and tells `events` what becomes of it ({@linkcode run} without a promise). */
  start(id: string, args: Uint8Array, events: PoolEvents, web?: WebStream): void {
    this.#runTime.addSize(args.byteLength);
    // A free slot and no input waiting ahead (a pipelined map): taken with no waiter, no promise.
    const free = this.#waiters.size === 0 && !this.#closed && this.#sandboxes.take(this.slots);
    if (free) {
      this.#topUp(); // as #slot's dispatch: one more busy may want a buffer sandbox
      this.#send(free, id, args, events, web);
      return;
    }
    this.#slot().then(
      (sandbox) => this.#send(sandbox, id, args, events, web),
      (err) => events.failed(err),
    );
  }

  #send(sandbox: WarmSandbox, id: string, args: Uint8Array, events: PoolEvents, web?: WebStream) {
    const run = { fn: this.spec.def.name, max: this.#concurrency, web };
    sandbox.start(id, args, run, new PooledInput(this, sandbox, events));
  }

  /**
   * An input in `sandbox` ended (`ms`: its run time, unless its sandbox died): the slot goes
   * back, and waiting inputs may take it. For {@linkcode PooledInput} only.
   */
  ended(sandbox: WarmSandbox, ms?: number): void {
    if (ms !== undefined) this.#runTime.add(ms);
    this.#sandboxes.give(sandbox);
    // Over this worker's allowance: idle sandboxes stop instead of taking the next input.
    if (this.#used() > this.#caps.keep) this.#stopIdle(Infinity);
    this.#dispatch();
  }

  /**
   * The pool of one instance of a class (one key per constructor argument
   * list): each instance has containers of its own. Scaling down and closing
   * this pool covers them.
   */
  instance(key: string): FunctionPool {
    return this.#instances.get(key);
  }

  /** A class's own pool: it runs nothing, its instances hold the containers. */
  get #isClass(): boolean {
    return this.spec.def.cls !== undefined && !this.#isInstance;
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
    this.#sandboxes.remove(sandbox);
    await sandbox.stop();
    this.#dispatch();
  }

  /** Keeps no sandbox warm any more: each stops once idle (its app was redeployed). */
  retire(): void {
    this.#retired = true;
    this.#instances.retire();
  }

  /** Stops sandboxes idle past the scale-down window, keeping `minContainers`. */
  async scaleDown(): Promise<void> {
    await this.#instances.scaleDown();
    if (this.#isClass) return;
    await this.#stopIdle(this.#retired ? 0 : this.spec.def.scaledownWindowMs);
    this.#topUp();
  }

  /** Stops sandboxes idle past `windowMs` above the warm target, and idle ones above the allowance. */
  #stopIdle(windowMs: number): Promise<unknown> {
    const nowMs = this.#clock.now();
    // Starting sandboxes count against the same allowance.
    const cap = this.#caps.keep - this.#sandboxes.starting;
    const stop = this.#sandboxes.removeIdle({ nowMs, windowMs, keepWarm: this.#warmTarget(), cap });
    for (const s of stop) this.#event("container.stopped", s, "stopped (idle)");
    return Promise.all(stop.map((s) => s.stop(this.#graceMs)));
  }

  /** Sandboxes to keep warm now (see {@linkcode warmTarget}). */
  #warmTarget(): number {
    if (this.#retired || this.#isClass) return 0;
    const d = this.spec.def;
    return warmTarget({
      min: this.#caps.min,
      buffer: d.bufferContainers,
      max: d.maxContainers,
      busy: this.counts().busy,
    });
  }

  /** Starts sandboxes up to the warm target: minContainers, or busy + bufferContainers. */
  #topUp(): void {
    if (this.#closed) return;
    // No minimum and no buffer: the target is the busy sandboxes, all alive already.
    if (this.spec.def.bufferContainers <= 0 && this.#caps.min <= 0) return;
    const target = this.#warmTarget();
    let alive = this.#sandboxes.prune() + this.#sandboxes.starting;
    // minContainers start regardless of free cores (as the first sandbox does); the buffer only if it fits.
    while (
      alive < target && this.#room() &&
      (alive < this.#caps.min || this.#reservation.fits())
    ) {
      this.#startOne();
      alive++;
    }
  }

  /**
   * Starts the first sandbox now, before any input, if none is alive or starting and it fits
   * in the allowance and the worker's free cores and memory (a new ephemeral app's function:
   * its first input is on its way), if `proto/prestart.ts` allows it.
   */
  prestart(): void {
    if (this.#closed || this.#retired || this.#isClass || !prestartable(this.spec.def)) return;
    if (this.#sandboxes.alive + this.#sandboxes.starting > 0) return;
    if (this.#room() && this.#reservation.fits()) this.#startOne();
  }

  /** Starts minContainers sandboxes now, before any input; wakes waiting inputs (more room). */
  warm(): void {
    this.#instances.warm();
    this.#dispatch();
  }

  /** Stops every sandbox; waiting inputs fail. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#scaleUp.cancel();
    for (const w of this.#waiters.takeFrom()) w.reject(new Error("The function's app stopped"));
    this.#reservation.close();
    const stopping = this.#sandboxes.clear();
    for (const s of stopping) this.#event("container.stopped", s, "stopped");
    await Promise.allSettled([
      this.#instances.close(),
      ...stopping.map((s) => s.stop(this.#graceMs)),
    ]);
  }

  #slot(): Promise<WarmSandbox> {
    if (this.#closed) return Promise.reject(new Error("The function's app stopped"));
    const waiter = { ...Promise.withResolvers<WarmSandbox>(), sinceMs: this.#clock.now() };
    this.#waiters.push(waiter);
    this.#dispatch();
    return waiter.promise;
  }

  #dispatch(): void {
    this.#sandboxes.prune();
    const slots = this.slots;
    // The least busy sandbox: queued windows spread instead of piling on the first.
    this.#waiters.serve(() => this.#sandboxes.take(slots));
    if (this.#waiters.size > 0) this.#scaleUp.check(); // it looks only at inputs waiting
    this.#topUp();
  }

  /** Under maxContainers and this worker's allowance. */
  #room(): boolean {
    return this.#used() < this.#caps.start;
  }

  /** Containers counted against the caps. */
  #used(): number {
    return this.#sandboxes.length + this.#sandboxes.starting;
  }

  #startOne(): void {
    // Callers checked the fit; a function's first sandbox (and minContainers) start regardless.
    this.#reservation.take();
    this.#sandboxes.starting++;
    const s = this.spec;
    WarmSandbox.start(this.#options.runner, sandboxSpec(s, ++counter), {
      rootDir: s.rootDir,
      clock: this.#clock,
      onNested: s.onNested && ((...call) => (this.#runTime.nests = true, s.onNested!(...call))),
      onParked: (sb, parked) => parked ? this.#reservation.park(sb) : this.#reservation.unpark(sb),
    }).then((sandbox) => {
      this.#sandboxes.starting--;
      countStart(this.#figures, s, sandbox);
      if (this.#closed) {
        this.#reservation.give();
        sandbox.stop();
        return;
      }
      this.#sandboxes.add(sandbox);
      this.#scaleUp.restart(); // the wait for its cold start says nothing of the load
      this.#dispatch();
    }, (err) => {
      const starting = --this.#sandboxes.starting;
      // Every start would fail the same way (a broken module, an image that
      // cannot be built): fail the inputs waiting beyond other sandboxes' reach.
      if (this.#sandboxes.prune() === 0) {
        for (const w of this.#waiters.takeFrom(starting * this.#concurrency)) w.reject(err);
      }
      // After failing the waiters: the room freed wakes pools, this one included.
      this.#reservation.give();
      this.#dispatch();
    });
  }
}

/** One input of a pool in one of its sandboxes: the pool's bookkeeping, then the caller's events. */
class PooledInput implements RunEvents {
  readonly #pool: FunctionPool;
  readonly #sandbox: WarmSandbox;
  readonly #events: PoolEvents;

  constructor(pool: FunctionPool, sandbox: WarmSandbox, events: PoolEvents) {
    this.#pool = pool;
    this.#sandbox = sandbox;
    this.#events = events;
  }

  onStart(): void {
    this.#events.onSandbox?.(this.#sandbox);
  }

  done(msg: DoneMessage): void {
    this.#pool.ended(this.#sandbox, msg.ms);
    this.#events.done(msg);
  }

  failed(err: unknown): void {
    this.#pool.ended(this.#sandbox);
    this.#events.failed(err);
  }
}
