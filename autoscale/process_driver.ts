/**
 * The `process` driver: workers are `nano-modal worker` child processes on
 * this host. Each has a pid file in the state directory, so a restarted
 * autoscaler adopts the workers it finds there; children are detached and
 * outlive the autoscaler. Draining is SIGTERM (the worker finishes the inputs
 * in hand), then SIGKILL after the grace period.
 * @module
 */
import type { Clock } from "../proto/clock.ts";
import type { Driver, Unit, WorkerSpec } from "./driver.ts";
import type { WorkerLoad } from "./policy.ts";

/** Options for {@linkcode ProcessDriver}. */
export interface ProcessDriverOptions {
  /** How workers are started. */
  spec: WorkerSpec;
  /** Holds one pid file and one log file per worker. */
  stateDir: string;
  /** Time for grace periods and waits. */
  clock: Clock;
  /** The program and arguments that start `nano-modal` (default: this one). */
  command?: string[];
  /** Extra environment of the workers. */
  env?: Record<string, string>;
}

/** The command that runs this same program: `deno run -A main.ts`, or the binary itself. */
export function selfCommand(): string[] {
  const main = new URL(Deno.mainModule);
  if (main.protocol === "file:" && /\.[jt]s$/.test(main.pathname)) {
    return [Deno.execPath(), "run", "-A", decodeURIComponent(main.pathname)];
  }
  return [Deno.execPath()];
}

/** Whether `pid` is a live (not zombie) process running a worker. */
async function isWorker(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
    return cmdline.split("\0").includes("worker");
  } catch {
    return false;
  }
}

/**
 * Runs workers as child processes.
 *
 * @example
 * ```ts ignore
 * const driver = new ProcessDriver({ spec, stateDir: "/tmp/nm-scaler", clock: systemClock });
 * await driver.start(2);
 * ```
 */
export class ProcessDriver implements Driver {
  readonly name = "process";
  readonly #options: ProcessDriverOptions;
  readonly #draining = new Set<number>();
  readonly #host = Deno.hostname().replace(/[^\w.-]/g, "");

  /**
   * A driver over `options.stateDir`; it adopts the workers whose pid files it finds there.
   * @param options the worker spec, the state directory and the clock
   */
  constructor(options: ProcessDriverOptions) {
    this.#options = options;
  }

  async list(): Promise<Unit[]> {
    const dir = this.#options.stateDir;
    const units: Unit[] = [];
    await Deno.mkdir(dir, { recursive: true });
    for await (const entry of Deno.readDir(dir)) {
      const m = entry.name.match(/^(\d+)\.pid$/);
      if (!m) continue;
      const pid = Number(m[1]);
      if (this.#draining.has(pid)) continue;
      if (await isWorker(pid)) units.push({ id: String(pid), draining: false });
      else await Deno.remove(`${dir}/${entry.name}`).catch(() => {});
    }
    for (const pid of [...this.#draining]) {
      if (await isWorker(pid)) units.push({ id: String(pid), draining: true });
      else this.#draining.delete(pid);
    }
    return units;
  }

  matches(unit: Unit, worker: WorkerLoad): boolean {
    // Worker ids are `wk-<hostname>-<pid>-<random>`.
    return worker.workerId.startsWith(`wk-${this.#host}-${unit.id}-`);
  }

  async start(count: number): Promise<void> {
    const { spec, stateDir } = this.#options;
    await Deno.mkdir(stateDir, { recursive: true });
    const args = ["worker", "--server", spec.serverUrl, "--concurrency", String(spec.concurrency)];
    if (spec.runner) args.push("--runner", spec.runner);
    const command = [...(this.#options.command ?? selfCommand()), ...args];
    for (let i = 0; i < count; i++) {
      // `exec` keeps one pid from the shell to the worker, whose output goes to its log file.
      const child = new Deno.Command("sh", {
        args: ["-c", 'exec "$@" >>"$0" 2>&1', `${stateDir}/workers.log`, ...command],
        env: { ...this.#options.env, ...(spec.token ? { NANO_MODAL_TOKEN: spec.token } : {}) },
        stdin: "null",
        stdout: "null",
        stderr: "null",
        detached: true,
      }).spawn();
      child.status.then(() => this.#draining.delete(child.pid));
      child.unref();
      await Deno.writeTextFile(`${stateDir}/${child.pid}.pid`, `${child.pid}\n`);
    }
  }

  async stop(units: Unit[]): Promise<void> {
    for (const unit of units) {
      const pid = Number(unit.id);
      await Deno.remove(`${this.#options.stateDir}/${pid}.pid`).catch(() => {});
      this.#draining.add(pid);
      signal(pid, "SIGTERM");
      this.#options.clock.setTimeout(async () => {
        if (await isWorker(pid)) signal(pid, "SIGKILL");
      }, this.#options.spec.graceSeconds * 1_000);
    }
  }

  async stopAll(): Promise<void> {
    await this.stop((await this.list()).filter((u) => !u.draining));
    while ((await this.list()).length > 0) await this.#options.clock.sleep(100);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // Already gone.
  }
}
