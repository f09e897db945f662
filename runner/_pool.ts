/**
 * Warm sandboxes of one function: hands out slots (`concurrency` per
 * sandbox), starts sandboxes up to `maxContainers` when inputs wait, keeps
 * `minContainers`, and stops sandboxes idle past `scaledownWindowMs`.
 */
import type { FunctionDef } from "../proto/gen/nano_modal_pb.ts";
import type { DoneMessage } from "./_protocol.ts";
import type { Runner, SandboxSpec } from "./runner.ts";
import { WarmSandbox } from "./_warm_sandbox.ts";

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

/** The warm sandboxes of one function on this worker. */
export class FunctionPool {
  readonly spec: PoolSpec;
  readonly #runner: Runner;
  readonly #sandboxes: WarmSandbox[] = [];
  readonly #busy = new Map<WarmSandbox, number>();
  readonly #waiters: PromiseWithResolvers<WarmSandbox>[] = [];
  #starting = 0;
  #closed = false;

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
  ): Promise<DoneMessage> {
    const sandbox = await this.#slot();
    try {
      onSandbox?.(sandbox);
      return await sandbox.run(id, this.spec.def.name, args);
    } finally {
      this.#busy.set(sandbox, (this.#busy.get(sandbox) ?? 1) - 1);
      this.#dispatch();
    }
  }

  /** Kills one sandbox (its other inputs fail and are retried elsewhere). */
  async kill(sandbox: WarmSandbox): Promise<void> {
    this.#remove(sandbox);
    await sandbox.stop();
    this.#dispatch();
  }

  /** Stops sandboxes idle past the scale-down window, keeping `minContainers`. */
  async scaleDown(nowMs = Date.now()): Promise<void> {
    const { minContainers, scaledownWindowMs } = this.spec.def;
    let alive = this.#prune();
    for (const sandbox of [...this.#sandboxes]) {
      if (alive <= minContainers) break;
      if (
        (this.#busy.get(sandbox) ?? 0) === 0 && nowMs - sandbox.idleSinceMs >= scaledownWindowMs
      ) {
        this.#remove(sandbox);
        alive--;
        await sandbox.stop();
      }
    }
    if (alive + this.#starting < minContainers && !this.#closed) this.#startOne();
  }

  /** Stops every sandbox; waiting inputs fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.reject(new Error("The function's app stopped"));
    await Promise.allSettled(this.#sandboxes.splice(0).map((s) => s.stop()));
  }

  #slot(): Promise<WarmSandbox> {
    if (this.#closed) return Promise.reject(new Error("The function's app stopped"));
    const waiter = Promise.withResolvers<WarmSandbox>();
    this.#waiters.push(waiter);
    this.#dispatch();
    return waiter.promise;
  }

  #dispatch(): void {
    this.#prune();
    while (this.#waiters.length > 0) {
      const free = this.#sandboxes.find((s) =>
        s.alive && (this.#busy.get(s) ?? 0) < this.#concurrency
      );
      if (!free) break;
      this.#busy.set(free, (this.#busy.get(free) ?? 0) + 1);
      this.#waiters.shift()!.resolve(free);
    }
    const coming = this.#starting * this.#concurrency;
    if (
      this.#waiters.length > coming &&
      this.#sandboxes.length + this.#starting < Math.max(1, this.spec.def.maxContainers)
    ) {
      this.#startOne();
    }
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
        const reachable = this.#starting * this.#concurrency;
        for (const w of this.#waiters.splice(reachable)) w.reject(err);
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
