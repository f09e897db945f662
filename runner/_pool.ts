/**
 * Warm sandboxes of one function: hands out slots (`concurrency` per
 * sandbox), starts sandboxes up to `maxContainers` when inputs wait, keeps
 * `minContainers`, and stops sandboxes idle past `scaledownWindowMs`.
 */
import type { FunctionDef } from "../proto/messages.ts";
import type { DoneMessage } from "./_protocol.ts";
import type { Runner, SandboxSpec } from "./runner.ts";
import { WarmSandbox, type WebStream } from "./_warm_sandbox.ts";

/** What the pool needs to start sandboxes for a function. */
export interface PoolSpec {
  functionId: string;
  appId: string;
  appName: string;
  def: FunctionDef;
  bundlePath: string;
  entrypointPath: string;
  /** Directory for sandbox sockets. */
  rootDir: string;
  onOutput: SandboxSpec["onOutput"];
}

let counter = 0;

/**
 * A backlog must persist this long before another sandbox starts: a burst that
 * the warm sandboxes clear quickly is cheaper than a sandbox's start.
 */
const SCALE_UP_AFTER_MS = 100;

interface Waiter extends PromiseWithResolvers<WarmSandbox> {
  sinceMs: number;
}

/** The warm sandboxes of one function on this worker. */
export class FunctionPool {
  readonly spec: PoolSpec;
  readonly #runner: Runner;
  readonly #sandboxes: WarmSandbox[] = [];
  readonly #busy = new Map<WarmSandbox, number>();
  /** Inputs waiting for a slot, oldest first from `#head`. */
  #waiters: Waiter[] = [];
  #head = 0;
  #scaleTimer: ReturnType<typeof setTimeout> | undefined;
  #starting = 0;
  #closed = false;
  /** A class's pools, one per instance key (see {@linkcode FunctionPool.instance}). */
  readonly #instances = new Map<string, FunctionPool>();
  #isInstance = false;

  constructor(runner: Runner, spec: PoolSpec) {
    this.#runner = runner;
    this.spec = spec;
  }

  get #concurrency(): number {
    return Math.max(1, this.spec.def.concurrency);
  }

  /** Sandboxes alive now. */
  get size(): number {
    return this.#sandboxes.filter((s) => s.alive).length;
  }

  /**
   * Runs one input. `onSandbox` learns which sandbox runs it (to kill it on
   * timeout). Rejects with the runner's errors if the sandbox dies or fails to start.
   */
  async run(
    id: string,
    args: Uint8Array,
    onSandbox?: (sandbox: WarmSandbox) => void,
    web?: WebStream,
  ): Promise<DoneMessage> {
    const sandbox = await this.#slot();
    try {
      onSandbox?.(sandbox);
      return await sandbox.run(id, this.spec.def.name, args, web);
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
      pool = new FunctionPool(this.#runner, this.spec);
      pool.#isInstance = true;
      this.#instances.set(key, pool);
    }
    return pool;
  }

  /** How long a stopping sandbox may run its exit hooks. */
  get #graceMs(): number {
    return this.spec.def.cls?.exitGraceMs ?? 0;
  }

  /** Kills one sandbox (its other inputs fail and are retried elsewhere). */
  async kill(sandbox: WarmSandbox): Promise<void> {
    this.#remove(sandbox);
    await sandbox.stop();
    this.#dispatch();
  }

  /** Stops sandboxes idle past the scale-down window, keeping `minContainers`. */
  async scaleDown(nowMs = Date.now()): Promise<void> {
    await Promise.all([...this.#instances.values()].map((p) => p.scaleDown(nowMs)));
    // A class's own pool runs nothing: its instances hold the containers.
    if (this.spec.def.cls && !this.#isInstance) return;
    const { minContainers, scaledownWindowMs } = this.spec.def;
    let alive = this.#prune();
    for (const sandbox of [...this.#sandboxes]) {
      if (alive <= minContainers) break;
      if (
        (this.#busy.get(sandbox) ?? 0) === 0 && nowMs - sandbox.idleSinceMs >= scaledownWindowMs
      ) {
        this.#remove(sandbox);
        alive--;
        await sandbox.stop(this.#graceMs);
      }
    }
    if (alive + this.#starting < minContainers && !this.#closed) this.#startOne();
  }

  /** Stops every sandbox; waiting inputs fail. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#scaleTimer);
    for (const w of this.#takeWaiters()) w.reject(new Error("The function's app stopped"));
    const instances = [...this.#instances.values()].map((p) => p.close());
    this.#instances.clear();
    await Promise.allSettled([
      ...instances,
      ...this.#sandboxes.splice(0).map((s) => s.stop(this.#graceMs)),
    ]);
  }

  #slot(): Promise<WarmSandbox> {
    if (this.#closed) return Promise.reject(new Error("The function's app stopped"));
    const waiter = { ...Promise.withResolvers<WarmSandbox>(), sinceMs: performance.now() };
    this.#waiters.push(waiter);
    this.#dispatch();
    return waiter.promise;
  }

  get #waiting(): number {
    return this.#waiters.length - this.#head;
  }

  #takeWaiters(from = 0): Waiter[] {
    const taken = this.#waiters.slice(this.#head + from);
    this.#waiters.length = this.#head + from;
    return taken;
  }

  #dispatch(): void {
    this.#prune();
    let free: WarmSandbox | undefined;
    while (this.#waiting > 0) {
      if (!free || (this.#busy.get(free) ?? 0) >= this.#concurrency) {
        free = this.#sandboxes.find((s) => s.alive && (this.#busy.get(s) ?? 0) < this.#concurrency);
        if (!free) break;
      }
      this.#busy.set(free, (this.#busy.get(free) ?? 0) + 1);
      this.#waiters[this.#head++].resolve(free);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
      this.#waiters = this.#waiters.slice(this.#head);
      this.#head = 0;
    }
    this.#maybeScaleUp();
  }

  /**
   * Starts a sandbox at once when there is none; otherwise one at a time, and
   * only when the oldest waiting input has waited {@linkcode SCALE_UP_AFTER_MS}.
   */
  #maybeScaleUp(): void {
    const room = this.#sandboxes.length + this.#starting < Math.max(1, this.spec.def.maxContainers);
    if (!room || this.#waiting <= this.#starting * this.#concurrency || this.#closed) return;
    if (this.#sandboxes.length === 0 && this.#starting === 0) return this.#startOne();
    if (this.#starting > 0 || this.#scaleTimer) return;
    const waited = performance.now() - this.#waiters[this.#head].sinceMs;
    this.#scaleTimer = setTimeout(() => {
      this.#scaleTimer = undefined;
      if (this.#waiting === 0 || this.#starting > 0) return;
      if (performance.now() - this.#waiters[this.#head].sinceMs >= SCALE_UP_AFTER_MS) {
        this.#startOne();
      } else this.#maybeScaleUp();
    }, Math.max(0, SCALE_UP_AFTER_MS - waited));
  }

  #startOne(): void {
    this.#starting++;
    const s = this.spec;
    WarmSandbox.start(this.#runner, {
      sandboxId: `nm-${s.appId.slice(3, 11)}-${
        s.def.name.slice(0, 24).toLowerCase().replace(/[^a-z0-9]/g, "")
      }-${Deno.pid}-${++counter}`,
      appId: s.appId,
      appName: s.appName,
      functionName: s.def.name,
      def: s.def,
      bundlePath: s.bundlePath,
      entrypointPath: s.entrypointPath,
      onOutput: s.onOutput,
    }, s.rootDir).then((sandbox) => {
      this.#starting--;
      if (this.#closed) {
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
      this.#dispatch();
    });
  }

  #prune(): number {
    for (const s of [...this.#sandboxes]) if (!s.alive) this.#remove(s);
    return this.#sandboxes.length;
  }

  #remove(sandbox: WarmSandbox): void {
    const i = this.#sandboxes.indexOf(sandbox);
    if (i >= 0) this.#sandboxes.splice(i, 1);
    this.#busy.delete(sandbox);
  }
}
