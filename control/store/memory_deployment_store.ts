/**
 * {@linkcode DeploymentStore} in this process's memory.
 * @module
 */
import type { Clock } from "../../proto/clock.ts";
import type {
  Deployment,
  DeploymentStore,
  DeploymentVersion,
  NextVersion,
} from "./deployment_store.ts";

/** Deployments in memory: lost when the process ends. */
export class MemoryDeploymentStore implements DeploymentStore {
  readonly #deployments = new Map<string, Deployment>();
  readonly #versions = new Map<string, DeploymentVersion[]>();
  readonly #heartbeats = new Map<string, number>();
  readonly #logs = new Map<string, Uint8Array[]>();
  readonly #clock: Clock;

  /** Keeps call depths on `clock`. */
  constructor(clock: Clock) {
    this.#clock = clock;
  }
  readonly #depths = new Map<string, { depth: number; untilMs: number }>();

  recordVersion(name: string, next: NextVersion): Promise<DeploymentVersion> {
    const { appId, nowMs, rollbackOf = 0 } = next;
    const list = this.#versions.get(name) ?? [];
    const version = { version: list.length + 1, appId, createdMs: nowMs, rollbackOf };
    list.push(version);
    this.#versions.set(name, list);
    const createdMs = this.#deployments.get(name)?.createdMs ?? nowMs;
    this.#deployments.set(name, {
      name,
      version: version.version,
      appId,
      stopped: false,
      createdMs,
      updatedMs: nowMs,
    });
    return Promise.resolve({ ...version });
  }

  getDeployment(name: string): Promise<Deployment | undefined> {
    const d = this.#deployments.get(name);
    return Promise.resolve(d && { ...d });
  }

  listDeployments(): Promise<Deployment[]> {
    const names = [...this.#deployments.keys()].sort();
    return Promise.resolve(names.map((n) => ({ ...this.#deployments.get(n)! })));
  }

  versions(name: string): Promise<DeploymentVersion[]> {
    return Promise.resolve((this.#versions.get(name) ?? []).map((v) => ({ ...v })));
  }

  stopDeployment(name: string): Promise<boolean> {
    const d = this.#deployments.get(name);
    if (d) d.stopped = true;
    return Promise.resolve(d !== undefined);
  }

  touchApp(appId: string, nowMs: number): Promise<void> {
    this.#heartbeats.set(appId, nowMs);
    return Promise.resolve();
  }

  staleApps(beforeMs: number): Promise<string[]> {
    const stale = [...this.#heartbeats].filter(([, ms]) => ms < beforeMs).map(([id]) => id);
    return Promise.resolve(stale);
  }

  forgetApp(appId: string): Promise<void> {
    this.#heartbeats.delete(appId);
    return Promise.resolve();
  }

  setCallDepth(callId: string, depth: number, ttlMs: number): Promise<void> {
    const now = this.#clock.now();
    if (this.#depths.size > 10_000) {
      for (const [id, d] of this.#depths) if (d.untilMs < now) this.#depths.delete(id);
    }
    this.#depths.set(callId, { depth, untilMs: now + ttlMs });
    return Promise.resolve();
  }

  callDepth(callId: string): Promise<number> {
    const d = this.#depths.get(callId);
    return Promise.resolve(d && d.untilMs >= this.#clock.now() ? d.depth : 0);
  }

  appendLogs(name: string, lines: Uint8Array[], keep: number): Promise<void> {
    const list = this.#logs.get(name) ?? [];
    list.push(...lines);
    if (list.length > keep) list.splice(0, list.length - keep);
    this.#logs.set(name, list);
    return Promise.resolve();
  }

  recentLogs(name: string, max: number): Promise<Uint8Array[]> {
    const list = this.#logs.get(name) ?? [];
    return Promise.resolve(max > 0 ? list.slice(-max) : []);
  }
}
