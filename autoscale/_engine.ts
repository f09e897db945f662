/**
 * A small Docker Engine API client over the engine's unix socket (Deno's
 * fetch with a unix-socket client): the few calls the docker and swarm
 * drivers make, and nothing else. The autoscaler keeps its own, so it
 * depends on the engine's stable HTTP API rather than on the runner.
 * @module
 */

/** The engine's socket: `DOCKER_HOST` if it is a unix:// URL, else the standard path. */
export function engineSocketPath(): string {
  const host = Deno.env.get("DOCKER_HOST");
  if (host?.startsWith("unix://")) return host.slice("unix://".length);
  return "/var/run/docker.sock";
}

/** A container as `GET /containers/json` lists it. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string>;
}

/** A service as `GET /services` lists it. */
export interface ServiceSummary {
  ID: string;
  Version: { Index: number };
  Spec: { Name: string; Mode?: { Replicated?: { Replicas?: number } } } & Record<string, unknown>;
}

/** A task as `GET /tasks` lists it. */
export interface TaskSummary {
  ID: string;
  DesiredState: string;
  Status: { State: string };
}

/** The engine said no: its status and message. */
export class EngineError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "EngineError";
  }
}

/**
 * Calls the Engine API.
 *
 * @example
 * ```ts ignore
 * const engine = new Engine(engineSocketPath());
 * console.log((await engine.containers({ label: ["nano-modal.role=worker"] })).length);
 * engine.close();
 * ```
 */
export class Engine {
  readonly socketPath: string;
  readonly #client: Deno.HttpClient;

  constructor(socketPath: string) {
    this.socketPath = socketPath;
    this.#client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  }

  /** Containers matching `filters` (running or not). */
  containers(filters: Record<string, string[]>): Promise<ContainerSummary[]> {
    return this.#call("GET", `/containers/json?all=1&filters=${q(filters)}`);
  }

  /** Creates and starts a container; returns its id. */
  async run(name: string, config: Record<string, unknown>): Promise<string> {
    const { Id } = await this.#call<{ Id: string }>(
      "POST",
      `/containers/create?name=${encodeURIComponent(name)}`,
      config,
    );
    await this.#call("POST", `/containers/${Id}/start`);
    return Id;
  }

  /** Stops a container: SIGTERM, then SIGKILL after `graceSeconds`; resolves once it stopped. */
  async stop(id: string, graceSeconds: number): Promise<void> {
    await this.#call("POST", `/containers/${encodeURIComponent(id)}/stop?t=${graceSeconds}`);
  }

  /** Services matching `filters`. */
  services(filters: Record<string, string[]>): Promise<ServiceSummary[]> {
    return this.#call("GET", `/services?filters=${q(filters)}`);
  }

  /** Creates a service from its spec. */
  async createService(spec: Record<string, unknown>): Promise<void> {
    await this.#call("POST", "/services/create", spec);
  }

  /** Replaces a service's spec (optimistic: `version` must be the current one). */
  async updateService(id: string, version: number, spec: Record<string, unknown>): Promise<void> {
    await this.#call("POST", `/services/${encodeURIComponent(id)}/update?version=${version}`, spec);
  }

  /** Tasks matching `filters`. */
  tasks(filters: Record<string, string[]>): Promise<TaskSummary[]> {
    return this.#call("GET", `/tasks?filters=${q(filters)}`);
  }

  /** Closes the connection pool. */
  close(): void {
    this.#client.close();
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`http://docker${path}`, {
        method,
        client: this.#client,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new EngineError(
        0,
        `Cannot reach the Docker engine at ${this.socketPath} (${
          (err as Error).message
        }): start dockerd or set DOCKER_HOST`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = JSON.parse(text).message ?? text;
      } catch {
        // Not JSON: keep the text.
      }
      throw new EngineError(
        res.status,
        `Docker engine: ${method} ${path.split("?")[0]}: ${message.trim()}`,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

function q(filters: Record<string, string[]>): string {
  return encodeURIComponent(JSON.stringify(filters));
}
