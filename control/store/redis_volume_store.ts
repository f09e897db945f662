/**
 * {@linkcode VolumeStore} in Redis, shared by every control plane on it, so
 * workers behind any of them see the same volumes.
 *
 * Keys (under the prefix): `vol:<name>`, a hash of `created`, `version`,
 * `files`, `bytes`; `vol:<name>:tree`, a hash of path -> file JSON
 * (`{size, chunks, mtimeMs}`); `volumes`, the set of names. Content chunks
 * (at most 4 MiB each) are blobs of the store's blob store, which deletes
 * those no file refers to any more (control/_blob_sweep.ts). Chunks that
 * earlier versions kept as `chunk:<hash>` strings are still read, and move
 * to the blob store when a commit refers to them again.
 * @module
 */
import type { RedisContext } from "./_redis_context.ts";
import type { RedisBlobStore } from "./redis_blob_store.ts";
import type {
  CommitResult,
  VolumeChangeRecord,
  VolumeFile,
  VolumeLimits,
  VolumeStore,
  VolumeSummary,
} from "./volume_store.ts";

/**
 * Creates a volume unless it exists.
 * KEYS[1] the volume's hash, KEYS[2] the set of names. ARGV name, createdMs.
 * Returns 1 if created, 0 if it existed.
 */
const CREATE_VOLUME = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'created', ARGV[2], 'version', 0, 'files', 0, 'bytes', 0)
redis.call('SADD', KEYS[2], ARGV[1])
return 1`;

/**
 * Applies a commit whole or not at all.
 * KEYS[1] the volume's hash, KEYS[2] its tree.
 * ARGV maxBytes, maxFiles, then pairs of path and file JSON ("" removes the
 * path and everything below it), applied in order.
 * Returns {1, version}, {0, "missing"} or {0, "full", files, bytes}.
 */
const COMMIT_VOLUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 'missing'} end
local overlay = {}
local existing = nil
local function under(path, prefix)
  return prefix == '' or path == prefix or string.sub(path, 1, #prefix + 1) == prefix .. '/'
end
for i = 3, #ARGV, 2 do
  local path, value = ARGV[i], ARGV[i + 1]
  if value ~= '' then
    overlay[path] = value
  else
    existing = existing or redis.call('HKEYS', KEYS[2])
    for _, p in ipairs(existing) do if under(p, path) then overlay[p] = false end end
    for p, _ in pairs(overlay) do if under(p, path) then overlay[p] = false end end
  end
end
local files = tonumber(redis.call('HGET', KEYS[1], 'files') or '0')
local bytes = tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0')
for p, v in pairs(overlay) do
  local old = redis.call('HGET', KEYS[2], p)
  if old then files = files - 1; bytes = bytes - cjson.decode(old).size end
  if v then files = files + 1; bytes = bytes + cjson.decode(v).size end
end
if bytes > tonumber(ARGV[1]) or files > tonumber(ARGV[2]) then
  return {0, 'full', files, tostring(bytes)}
end
for p, v in pairs(overlay) do
  if v then redis.call('HSET', KEYS[2], p, v) else redis.call('HDEL', KEYS[2], p) end
end
redis.call('HSET', KEYS[1], 'files', files, 'bytes', string.format('%.0f', bytes))
return {1, redis.call('HINCRBY', KEYS[1], 'version', 1)}`;

/** Hashes whose legacy key is looked for per round trip. */
const LEGACY_CHECK_BATCH = 1000;

/** Volumes in Redis, on the store's shared connection. */
export class RedisVolumeStore implements VolumeStore {
  readonly #ctx: RedisContext;
  readonly #blobs: RedisBlobStore;

  /** Keeps content chunks in `blobs`. */
  constructor(ctx: RedisContext, blobs: RedisBlobStore) {
    this.#blobs = blobs;
    ctx.define({
      nmCreateVolume: { numberOfKeys: 2, lua: CREATE_VOLUME },
      nmCommitVolume: { numberOfKeys: 2, lua: COMMIT_VOLUME },
    });
    this.#ctx = ctx;
  }

  #key(name: string): string {
    return this.#ctx.key("vol:", name);
  }

  get #names(): string {
    return this.#ctx.key("volumes", "");
  }

  #chunk(hash: string): string {
    return this.#ctx.key("chunk:", hash);
  }

  async createVolume(name: string, createdMs: number): Promise<boolean> {
    return await this.#ctx.script<number>(
      "nmCreateVolume",
      this.#key(name),
      this.#names,
      name,
      createdMs,
    ) === 1;
  }

  async getVolume(name: string): Promise<VolumeSummary | undefined> {
    const [created, version, files, bytes] = await this.#ctx.run((r) =>
      r.hmget(this.#key(name), "created", "version", "files", "bytes")
    );
    if (created === null) return undefined;
    return {
      name,
      createdMs: Number(created),
      version: Number(version),
      files: Number(files),
      bytes: Number(bytes),
    };
  }

  async listVolumes(): Promise<VolumeSummary[]> {
    const names = (await this.#ctx.run((r) => r.smembers(this.#names))).sort();
    const all = await Promise.all(names.map((n) => this.getVolume(n)));
    return all.filter((v): v is VolumeSummary => v !== undefined);
  }

  async deleteVolume(name: string): Promise<boolean> {
    const res = await this.#ctx.run((r) =>
      r.multi().del(this.#key(name)).del(`${this.#key(name)}:tree`).srem(this.#names, name).exec()
    );
    return Number(res?.[0]?.[1] ?? 0) > 0;
  }

  async readTree(name: string): Promise<{ version: number; files: VolumeFile[] } | undefined> {
    const res = await this.#ctx.run((r) =>
      r.multi().hget(this.#key(name), "version").hgetall(`${this.#key(name)}:tree`).exec()
    );
    const version = res?.[0]?.[1] as string | null;
    if (version === null || version === undefined) return undefined;
    const tree = (res?.[1]?.[1] ?? {}) as Record<string, string>;
    const files = Object.entries(tree).map(([path, json]) => {
      const f = JSON.parse(json);
      return { path, size: f.size, chunks: f.chunks, mtimeMs: f.mtimeMs };
    });
    return { version: Number(version), files };
  }

  async commit(
    name: string,
    changes: VolumeChangeRecord[],
    limits: VolumeLimits,
  ): Promise<CommitResult> {
    const args: (string | number)[] = [limits.maxBytes, limits.maxFiles];
    for (const c of changes) {
      args.push(
        c.path,
        c.file
          ? JSON.stringify({ size: c.file.size, chunks: c.file.chunks, mtimeMs: c.file.mtimeMs })
          : "",
      );
    }
    const res = await this.#ctx.script<[number, ...(string | number)[]]>(
      "nmCommitVolume",
      this.#key(name),
      `${this.#key(name)}:tree`,
      ...args,
    );
    if (res[0] === 1) return { ok: true, version: Number(res[1]) };
    if (res[1] === "missing") return { ok: false, reason: "missing" };
    return { ok: false, reason: "full", files: Number(res[2]), bytes: Number(res[3]) };
  }

  async missingChunks(hashes: string[]): Promise<string[]> {
    const missing = await this.#blobs.missing(hashes);
    const absent: string[] = [];
    for (let i = 0; i < missing.length; i += LEGACY_CHECK_BATCH) {
      const slice = missing.slice(i, i + LEGACY_CHECK_BATCH);
      const found = await this.#ctx.run((r) => {
        const pipe = r.pipeline();
        for (const h of slice) pipe.exists(this.#chunk(h));
        return pipe.exec();
      }) ?? [];
      for (let j = 0; j < slice.length; j++) {
        // One at a time: a chunk is up to 4 MiB.
        if (found[j]?.[1] !== 1 || !(await this.#migrate(slice[j]))) absent.push(slice[j]);
      }
    }
    return absent;
  }

  /**
   * Moves a chunk an earlier version kept as `chunk:<hash>` to the blob store,
   * now that a commit refers to it; whether the blob store has it after.
   */
  async #migrate(hash: string): Promise<boolean> {
    const data = await this.#ctx.run((r) => r.getBuffer(this.#chunk(hash)));
    // Gone meanwhile: another control plane moved it.
    if (!data) return await this.#blobs.has(hash);
    await this.#blobs.put(hash, new Uint8Array(data));
    await this.#ctx.run((r) => r.del(this.#chunk(hash)));
    return true;
  }

  putChunk(hash: string, data: Uint8Array): Promise<void> {
    return this.#blobs.put(hash, data);
  }

  async getChunk(hash: string): Promise<Uint8Array | undefined> {
    const blob = await this.#blobs.get(hash);
    if (blob) return blob;
    const data = await this.#ctx.run((r) => r.getBuffer(this.#chunk(hash)));
    if (data) return new Uint8Array(data);
    // Moved to the blob store between the two reads.
    return await this.#blobs.get(hash);
  }
}
