/** Picks and configures a driver by name (`--driver`). */
import type { Clock } from "../proto/clock.ts";
import type { Driver, WorkerSpec } from "./driver.ts";
import { ProcessDriver } from "./process_driver.ts";

/** Everything any driver may need; each uses its part. */
export interface DriverOptions {
  /** How workers are started. */
  spec: WorkerSpec;
  /** Time for grace periods and waits. */
  clock: Clock;
  /** process: pid and log files. */
  stateDir: string;
  /** docker/swarm: the nano-modal image. @default "nano-modal:latest" */
  image?: string;
  /** docker/swarm: the network of worker containers. */
  network?: string;
  /** docker/swarm: host directory for worker caches, mounted at the same path. */
  workerDir?: string;
  /** swarm: the service name. @default "nano-modal-workers" */
  service?: string;
}

/** The driver called `name` ("process", "docker" or "swarm"). */
export async function makeDriver(name: string, options: DriverOptions): Promise<Driver> {
  switch (name) {
    case "process":
      return new ProcessDriver(options);
    default: {
      const { DockerDriver } = await import("./docker_driver.ts");
      const { SwarmDriver } = await import("./swarm_driver.ts");
      return name === "docker"
        ? await DockerDriver.connect(options)
        : await SwarmDriver.connect(options);
    }
  }
}
