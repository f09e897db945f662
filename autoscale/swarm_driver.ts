/**
 * The `swarm` driver: workers are the tasks of one Docker Swarm service
 * (created on first use, labelled like the docker driver's containers), and
 * scaling is the service's replica count, so the swarm places them on any of
 * its nodes. Swarm picks which tasks go on a scale-down; each gets SIGTERM
 * and the stop grace period, so the worker drains whichever it is. Each
 * task's hostname is `nmw-<task id>`, to find its worker in the stats.
 * @module
 */
import { Engine, engineSocketPath, type ServiceSummary } from "./_engine.ts";
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

/** Options for {@linkcode SwarmDriver.connect}. */
export interface SwarmDriverOptions {
  spec: WorkerSpec;
  clock: Clock;
  /** @default "nano-modal-workers" */
  service?: string;
  /** @default "nano-modal:latest" */
  image?: string;
  /** @default "host" */
  network?: string;
  /** @default "/tmp/nm-workers" */
  workerDir?: string;
}

/**
 * Scales a Swarm service of workers.
 *
 * @example
 * ```ts ignore
 * const driver = await SwarmDriver.connect({ spec, clock: systemClock });
 * await driver.start(2); // two more replicas
 * ```
 */
export class SwarmDriver implements Driver {
  readonly name = "swarm";
  readonly #engine: Engine;
  readonly #options: SwarmDriverOptions;
  readonly #service: string;

  private constructor(engine: Engine, options: SwarmDriverOptions) {
    this.#engine = engine;
    this.#options = options;
    this.#service = options.service ?? "nano-modal-workers";
  }

  /** Uses the engine (a swarm manager) at `DOCKER_HOST` or the standard socket. */
  static connect(options: SwarmDriverOptions): Promise<SwarmDriver> {
    return Promise.resolve(new SwarmDriver(new Engine(engineSocketPath()), options));
  }

  async list(): Promise<Unit[]> {
    const service = await this.#find();
    if (!service) return [];
    const tasks = await this.#engine.tasks({ service: [service.ID] });
    const alive = new Set([
      "new",
      "pending",
      "assigned",
      "accepted",
      "preparing",
      "starting",
      "running",
    ]);
    const units: Unit[] = tasks
      .filter((t) => alive.has(t.Status?.State ?? ""))
      .map((t) => ({ id: t.ID as string, draining: t.DesiredState !== "running" }));
    // Replicas asked for whose tasks swarm has not made yet count as units starting: a tick
    // that came before they were listed asked for them again, and start() (relative to the
    // replica count) took the service past --max.
    const running = units.filter((u) => !u.draining).length;
    for (let i = running; i < replicas(service); i++) {
      units.push({ id: `${service.ID}-pending-${i}`, draining: false });
    }
    return units;
  }

  matches(unit: Unit, worker: WorkerLoad): boolean {
    return worker.hostname === `nmw-${unit.id}`;
  }

  async start(count: number): Promise<void> {
    const service = await this.#find();
    if (!service) {
      await this.#engine.createService(this.#spec(count));
      return;
    }
    await this.#scale(service, replicas(service) + count);
  }

  async stop(units: Unit[]): Promise<void> {
    const service = await this.#find();
    if (service) await this.#scale(service, Math.max(0, replicas(service) - units.length));
  }

  async stopAll(): Promise<void> {
    const service = await this.#find();
    if (!service) return;
    await this.#scale(service, 0);
    while ((await this.list()).length > 0) await this.#options.clock.sleep(200);
  }

  close(): Promise<void> {
    this.#engine.close();
    return Promise.resolve();
  }

  async #find(): Promise<ServiceSummary | undefined> {
    const found = await this.#engine.services({ name: [this.#service] });
    return found.find((s) => s.Spec.Name === this.#service);
  }

  async #scale(service: ServiceSummary, to: number): Promise<void> {
    const spec = { ...service.Spec, Mode: { Replicated: { Replicas: to } } };
    await this.#engine.updateService(service.ID, service.Version.Index, spec);
  }

  #spec(replicas: number) {
    const { spec } = this.#options;
    const workerDir = this.#options.workerDir ?? DEFAULT_WORKER_DIR;
    // One cache per task: the template expands to the task's own directory.
    const cacheDir = `${workerDir}/{{.Task.ID}}`;
    return {
      Name: this.#service,
      Labels: workerLabels(ownerKey(spec)),
      TaskTemplate: {
        ContainerSpec: {
          Image: this.#options.image ?? DEFAULT_IMAGE,
          Args: workerCommand(spec),
          Env: workerEnv(spec, cacheDir),
          Hostname: "nmw-{{.Task.ID}}",
          User: "0",
          StopGracePeriod: spec.graceSeconds * 1e9,
          Init: true,
          Mounts: [
            { Type: "bind", Source: this.#engine.socketPath, Target: "/var/run/docker.sock" },
            { Type: "bind", Source: workerDir, Target: workerDir },
          ],
        },
        RestartPolicy: { Condition: "on-failure", MaxAttempts: 3 },
        Networks: [{ Target: this.#options.network ?? "host" }],
      },
      Mode: { Replicated: { Replicas: replicas } },
    };
  }
}

function replicas(service: ServiceSummary): number {
  return service.Spec.Mode?.Replicated?.Replicas ?? 0;
}
