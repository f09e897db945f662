/**
 * The `swarm` driver: workers are the tasks of one Docker Swarm service
 * (created on first use, labelled like the docker driver's containers), and
 * scaling is the service's replica count, so the swarm places them on any of
 * its nodes. Swarm picks which tasks go on a scale-down; each gets SIGTERM
 * and the stop grace period, so the worker drains whichever it is. Each
 * task's hostname is `nmw-<task id>`, to find its worker in the stats.
 * @module
 */
import { connectDocker, type Dockerode, dockerSocketPath } from "../runner/mod.ts";
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

interface ServiceInfo {
  ID: string;
  Version: { Index: number };
  Spec: { Mode?: { Replicated?: { Replicas?: number } } } & Record<string, unknown>;
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
  readonly #docker: Dockerode;
  readonly #socket: string;
  readonly #options: SwarmDriverOptions;
  readonly #service: string;

  private constructor(docker: Dockerode, socket: string, options: SwarmDriverOptions) {
    this.#docker = docker;
    this.#socket = socket;
    this.#options = options;
    this.#service = options.service ?? "nano-modal-workers";
  }

  /** Connects to the engine (a swarm manager) at `DOCKER_HOST` or the standard socket. */
  static async connect(options: SwarmDriverOptions): Promise<SwarmDriver> {
    const socket = dockerSocketPath();
    return new SwarmDriver(await connectDocker(socket), socket, options);
  }

  async list(): Promise<Unit[]> {
    const service = await this.#find();
    if (!service) return [];
    const tasks = await this.#docker.listTasks({ filters: { service: [service.ID] } });
    const alive = new Set([
      "new",
      "pending",
      "assigned",
      "accepted",
      "preparing",
      "starting",
      "running",
    ]);
    return tasks
      .filter((t) => alive.has(t.Status?.State ?? ""))
      .map((t) => ({ id: t.ID as string, draining: t.DesiredState !== "running" }));
  }

  matches(unit: Unit, worker: WorkerLoad): boolean {
    return worker.hostname === `nmw-${unit.id}`;
  }

  async start(count: number): Promise<void> {
    const service = await this.#find();
    if (!service) {
      await this.#docker.createService(
        this.#spec(count) as unknown as Record<string, never>,
      );
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
    return Promise.resolve();
  }

  async #find(): Promise<ServiceInfo | undefined> {
    const found = await this.#docker.listServices({ filters: { name: [this.#service] } });
    return (found as unknown as ServiceInfo[]).find((s) =>
      (s.Spec as { Name?: string }).Name === this.#service
    );
  }

  async #scale(service: ServiceInfo, to: number): Promise<void> {
    const spec = { ...service.Spec, Mode: { Replicated: { Replicas: to } } };
    await this.#docker.getService(service.ID).update({ ...spec, version: service.Version.Index });
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
            { Type: "bind", Source: this.#socket, Target: "/var/run/docker.sock" },
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

function replicas(service: ServiceInfo): number {
  return service.Spec.Mode?.Replicated?.Replicas ?? 0;
}
