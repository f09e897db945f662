/**
 * {@linkcode SecretStore} in Redis, shared by every control plane on it.
 *
 * Keys (under the prefix): `secret:<name>`, a hash of `keys` (JSON), `sealed`
 * (bytes), `created` and `updated`; `secrets`, the set of names.
 * @module
 */
import { Buffer } from "node:buffer";
import type { RedisContext } from "./_redis_context.ts";
import type { SecretRecord, SecretStore, SecretSummary } from "./secret_store.ts";

/**
 * Stores a secret unless it exists and may not be replaced.
 * KEYS[1] the secret's hash, KEYS[2] the set of names.
 * ARGV name, keys JSON, sealed bytes, createdMs, updatedMs, replace ("1"/"0").
 * Returns 1 if stored, 0 if it existed and was kept.
 */
const PUT_SECRET = `
local exists = redis.call('EXISTS', KEYS[1]) == 1
if exists and ARGV[6] ~= '1' then return 0 end
local created = ARGV[4]
if exists then created = redis.call('HGET', KEYS[1], 'created') or created end
redis.call('HSET', KEYS[1], 'keys', ARGV[2], 'sealed', ARGV[3], 'created', created, 'updated', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[1])
return 1`;

/** Secrets in Redis, on the store's shared connection. */
export class RedisSecretStore implements SecretStore {
  readonly #ctx: RedisContext;

  constructor(ctx: RedisContext) {
    ctx.define({ nmPutSecret: { numberOfKeys: 2, lua: PUT_SECRET } });
    this.#ctx = ctx;
  }

  #key(name: string): string {
    return this.#ctx.key("secret:", name);
  }

  get #names(): string {
    return this.#ctx.key("secrets", "");
  }

  async putSecret(record: SecretRecord, replace: boolean): Promise<boolean> {
    const stored = await this.#ctx.script<number>(
      "nmPutSecret",
      this.#key(record.name),
      this.#names,
      record.name,
      JSON.stringify(record.keys),
      Buffer.from(record.sealed),
      record.createdMs,
      record.updatedMs,
      replace ? "1" : "0",
    );
    return stored === 1;
  }

  async getSecret(name: string): Promise<SecretRecord | undefined> {
    const [keys, sealed, created, updated] = await this.#ctx.run((r) =>
      r.hmgetBuffer(this.#key(name), "keys", "sealed", "created", "updated")
    ) as (Buffer | null)[];
    if (!keys || !sealed) return undefined;
    return {
      name,
      keys: JSON.parse(keys.toString()),
      sealed: new Uint8Array(sealed),
      createdMs: Number(created?.toString() ?? 0),
      updatedMs: Number(updated?.toString() ?? 0),
    };
  }

  async listSecrets(): Promise<SecretSummary[]> {
    const names = (await this.#ctx.run((r) => r.smembers(this.#names))).sort();
    if (!names.length) return [];
    const rows = await this.#ctx.run((r) => {
      const pipe = r.pipeline();
      for (const name of names) pipe.hmget(this.#key(name), "keys", "created", "updated");
      return pipe.exec();
    }) ?? [];
    const out: SecretSummary[] = [];
    names.forEach((name, i) => {
      const [err, row] = rows[i] as [Error | null, (string | null)[]];
      if (err || !row?.[0]) return;
      out.push({
        name,
        keys: JSON.parse(row[0]),
        createdMs: Number(row[1] ?? 0),
        updatedMs: Number(row[2] ?? 0),
      });
    });
    return out;
  }

  async deleteSecret(name: string): Promise<boolean> {
    const res = await this.#ctx.run((r) =>
      r.multi().del(this.#key(name)).srem(this.#names, name).exec()
    );
    return Number(res?.[0]?.[1] ?? 0) > 0;
  }
}
