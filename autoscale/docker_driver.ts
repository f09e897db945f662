/**
 * The `docker` driver: workers are containers of the nano-modal image on this
 * host's engine, labelled with the control plane they serve so that a
 * restarted autoscaler adopts them. Each container's hostname is its name, so
 * the worker it runs is recognised in the control plane's stats. Draining is
 * the engine's stop (SIGTERM, then SIGKILL after the grace period); the
 * container removes itself once the worker has finished.
 * @module
 */
import { Engine, engineSocketPath } from "./_engine.ts";
import type { Clock } from "../proto/clock.ts";
import type { Driver, Unit, WorkerSpec } from "./driver.ts";
import type { WorkerLoad } from "./policy.ts";
import {
  DEFAULT_IMAGE,
  DEFAULT_WORKER_DIR,
  ownerKey,
  workerCommand,
  workerEnv,
  workerLabels,
} from "./_worker_container.ts";

/** Options for {@linkcode DockerDriver.connect}. */
export interface DockerDriverOptions {
  spec: WorkerSpec;
  clock: Clock;
  /** @default "nano-modal:latest" */
  image?: string;
  /** @default "host" */
  network?: string;
  /** @default "/tmp/nm-workers" */
  workerDir?: string;
}

/**
 * Runs workers as containers on one engine.
 *
 * @example
 * ```ts ignore
 * const driver = await DockerDriver.connect({ spec, clock: systemClock });
 * await driver.start(1);
 * ```
 */
export class DockerDriver implements Driver {
  readonly name = "docker";
  readonly #engine: Engine;
  readonly #options: DockerDriverOptions;
  readonly #draining = new Set<string>();

  private constructor(engine: Engine, options: DockerDriverOptions) {
    this.#engine = engine;
    this.#options = options;
  }

  /** Uses the engine at `DOCKER_HOST` or the standard socket. */
  static connect(options: DockerDriverOptions): Promise<DockerDriver> {
    return Promise.resolve(new DockerDriver(new Engine(engineSocketPath()), options));
  }

  async list(): Promise<Unit[]> {
    const key = ownerKey(this.#options.spec);
    const found = await this.#engine.containers({
      label: [`nano-modal.autoscaler=${key}`],
      status: ["created", "running"],
    });
    const names = new Set(found.map((c) => c.Names[0].replace(/^\//, "")));
    for (const name of this.#draining) {
      if (names.has(name)) continue;
      this.#draining.delete(name);
      // Its cache, where this process sees it (on the host, or mounted at the same path).
      await Deno.remove(`${this.#workerDir}/${name}`, { recursive: true }).catch(() => {});
    }
    return [...names].map((id) => ({ id, draining: this.#draining.has(id) }));
  }

  matches(unit: Unit, worker: WorkerLoad): boolean {
    return worker.hostname === unit.id;
  }

  async start(count: number): Promise<void> {
    const { spec } = this.#options;
    const workerDir = this.#workerDir;
    await Promise.all(Array.from({ length: count }, async () => {
      const name = `nmw-${crypto.randomUUID().slice(0, 8)}`;
      const cacheDir = `${workerDir}/${name}`;
      await this.#engine.run(name, {
        Hostname: name,
        Image: this.#options.image ?? DEFAULT_IMAGE,
        Cmd: workerCommand(spec),
        Env: workerEnv(spec, cacheDir),
        Labels: workerLabels(ownerKey(spec)),
        // The engine's socket needs root; the functions it starts run as nobody.
        User: "0",
        StopTimeout: spec.graceSeconds,
        HostConfig: {
          // Binds (not Mounts) create the host directory when it is missing.
          Binds: [`${this.#engine.socketPath}:/var/run/docker.sock`, `${cacheDir}:${cacheDir}`],
          NetworkMode: this.#options.network ?? "host",
          AutoRemove: true,
          Init: true,
        },
      });
    }));
  }

  async stop(units: Unit[]): Promise<void> {
    const grace = this.#options.spec.graceSeconds;
    for (const unit of units) {
      this.#draining.add(unit.id);
      // The engine waits out the grace period: do not hold up the loop for it.
      this.#engine.stop(unit.id, grace).catch(() => {});
    }
    await Promise.resolve();
  }

  async stopAll(): Promise<void> {
    await this.stop((await this.list()).filter((u) => !u.draining));
    // Gone, not just stopped: the engine removes them (AutoRemove) a moment after they exit.
    const owner = `nano-modal.autoscaler=${ownerKey(this.#options.spec)}`;
    while ((await this.#engine.containers({ label: [owner] })).length > 0) {
      await this.list();
      await this.#options.clock.sleep(200);
    }
  }

  get #workerDir(): string {
    return this.#options.workerDir ?? DEFAULT_WORKER_DIR;
  }

  close(): Promise<void> {
    this.#engine.close();
    return Promise.resolve();
  }
}
