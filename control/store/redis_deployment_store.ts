/**
 * {@linkcode DeploymentStore} in Redis, shared by every control plane on it.
 *
 * Keys (under the prefix): `dep:<name>`, a hash of `version`, `app`,
 * `stopped`, `created` and `updated`; `depv:<name>`, a list of versions (JSON);
 * `deps`, the set of names; `apphb`, a sorted set of ephemeral app ids scored
 * by their last heartbeat; `applog:<name>`, a capped list of encoded log lines;
 * `depth:<callId>`, how deep in nested calls a call was made (expiring).
 * @module
 */
import { Buffer } from "node:buffer";
import type {
  Deployment,
  DeploymentStore,
  DeploymentVersion,
  NextVersion,
} from "./deployment_store.ts";
import type { RedisContext } from "./_redis_context.ts";
import { script } from "./_redis_lua.ts";

/**
 * Records the next version of a name and makes it current.
 * KEYS[1] `dep:<name>`, KEYS[2] `depv:<name>`, KEYS[3] `deps`.
 * ARGV name, appId, nowMs, rollbackOf.
 * Returns the new version number.
 */
const RECORD_VERSION = `
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
if v == 1 then redis.call('HSET', KEYS[1], 'created', ARGV[3]) end
redis.call('HSET', KEYS[1], 'app', ARGV[2], 'stopped', '0', 'updated', ARGV[3])
redis.call('RPUSH', KEYS[2], cjson.encode({version = v, appId = ARGV[2],
  createdMs = tonumber(ARGV[3]), rollbackOf = tonumber(ARGV[4])}))
redis.call('SADD', KEYS[3], ARGV[1])
return v`;

/**
 * Marks a name stopped if it exists (HSET alone would create the hash).
 * KEYS[1] `dep:<name>`. Returns 1 if it existed, else 0.
 */
const STOP_DEPLOYMENT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'stopped', '1')
return 1`;

/** Deployments in Redis, through the store's shared context. */
export class RedisDeploymentStore implements DeploymentStore {
  readonly #ctx: RedisContext;
  readonly #prefix: string;

  /** Uses the context's connection and key prefix. */
  constructor(ctx: RedisContext) {
    ctx.define({
      nmRecordVersion: script(3, RECORD_VERSION),
      nmStopDeployment: script(1, STOP_DEPLOYMENT),
    });
    this.#ctx = ctx;
    this.#prefix = ctx.keys.prefix;
  }

  async recordVersion(name: string, next: NextVersion): Promise<DeploymentVersion> {
    const { appId, nowMs, rollbackOf = 0 } = next;
    const p = this.#prefix;
    const version = await this.#ctx.script<number>(
      "nmRecordVersion",
      `${p}dep:${name}`,
      `${p}depv:${name}`,
      `${p}deps`,
      name,
      appId,
      nowMs,
      rollbackOf,
    );
    return { version, appId, createdMs: nowMs, rollbackOf };
  }

  async getDeployment(name: string): Promise<Deployment | undefined> {
    const row = await this.#ctx.run((r) =>
      r.hmget(
        `${this.#prefix}dep:${name}`,
        "version",
        "app",
        "stopped",
        "created",
        "updated",
      )
    );
    return toDeployment(name, row);
  }

  async listDeployments(): Promise<Deployment[]> {
    const names = (await this.#ctx.run((r) => r.smembers(`${this.#prefix}deps`))).sort();
    if (!names.length) return [];
    const rows = await this.#ctx.run(async (r) => {
      const pipe = r.pipeline();
      for (const name of names) {
        pipe.hmget(`${this.#prefix}dep:${name}`, "version", "app", "stopped", "created", "updated");
      }
      return (await pipe.exec()) ?? [];
    });
    return names.flatMap((name, i) => {
      const [err, row] = rows[i] as [Error | null, (string | null)[]];
      const d = err ? undefined : toDeployment(name, row);
      return d ? [d] : [];
    });
  }

  async versions(name: string): Promise<DeploymentVersion[]> {
    const raw = await this.#ctx.run((r) => r.lrange(`${this.#prefix}depv:${name}`, 0, -1));
    return raw.map((r) => JSON.parse(r));
  }

  async stopDeployment(name: string): Promise<boolean> {
    return await this.#ctx.script<number>("nmStopDeployment", `${this.#prefix}dep:${name}`) === 1;
  }

  async touchApp(appId: string, nowMs: number): Promise<void> {
    await this.#ctx.run((r) => r.zadd(`${this.#prefix}apphb`, nowMs, appId));
  }

  async staleApps(beforeMs: number): Promise<string[]> {
    return await this.#ctx.run((r) =>
      r.zrangebyscore(`${this.#prefix}apphb`, "-inf", `(${beforeMs}`)
    );
  }

  async forgetApp(appId: string): Promise<void> {
    await this.#ctx.run((r) => r.zrem(`${this.#prefix}apphb`, appId));
  }

  async setCallDepth(callId: string, depth: number, ttlMs: number): Promise<void> {
    await this.#ctx.run((r) =>
      r.set(`${this.#prefix}depth:${callId}`, depth, "PX", Math.max(1, Math.round(ttlMs)))
    );
  }

  async callDepth(callId: string): Promise<number> {
    return Number(await this.#ctx.run((r) => r.get(`${this.#prefix}depth:${callId}`)) ?? 0);
  }

  async appendLogs(name: string, lines: Uint8Array[], keep: number): Promise<void> {
    if (!lines.length) return;
    const key = `${this.#prefix}applog:${name}`;
    await this.#ctx.run((r) =>
      r.multi().rpush(key, ...lines.map((l) => Buffer.from(l))).ltrim(key, -keep, -1).exec()
    );
  }

  async recentLogs(name: string, max: number): Promise<Uint8Array[]> {
    if (max <= 0) return [];
    const raw = await this.#ctx.run((r) =>
      r.lrangeBuffer(`${this.#prefix}applog:${name}`, -max, -1)
    );
    return raw.map((b: Buffer) => new Uint8Array(b));
  }
}

function toDeployment(name: string, row: (string | null)[]): Deployment | undefined {
  const [version, app, stopped, created, updated] = row;
  if (!version || !app) return undefined;
  return {
    name,
    version: Number(version),
    appId: app,
    stopped: stopped === "1",
    createdMs: Number(created ?? 0),
    updatedMs: Number(updated ?? 0),
  };
}
