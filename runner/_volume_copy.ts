/**
 * A sandbox's copy of one volume: a host directory the sandbox mounts,
 * filled from the volume's tree, then kept in step with it. `commit()`
 * uploads what changed in the directory (new chunks only) and applies it in
 * one atomic commit; `reload()` brings in what others committed. Chunks are
 * cached per worker, so twelve sandboxes of one worker fetch each once.
 */
import type { VolumeEntry } from "../proto/messages.ts";
import { removeChange, type VolumeClient, writeChange } from "../proto/volume_client.ts";
import type { VolumeChange } from "../proto/messages.ts";
import { MAX_FILE_BYTES } from "../proto/volume_files.ts";

/** What the copy last knew of a file: its content, and the local stat that had it. */
interface Known {
  chunks: string;
  size: number;
  mtimeMs: number;
}

/** Chunks this small are written to their file from memory when just fetched. */
const SMALL_CHUNK_BYTES = 256 * 1024;

/**
 * A worker's cache of volume chunks on disk, by hash.
 * @ignore (its signatures name the wire-layer `VolumeClient`)
 */
export class ChunkCache {
  readonly #dir: string;
  readonly #pending = new Map<string, Promise<void>>();
  /** Chunks known to be on disk (chunks are never removed while the worker runs). */
  readonly #onDisk = new Set<string>();

  /** A cache in `dir`, one file per chunk hash. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The file holding a chunk. */
  path(hash: string): string {
    return `${this.#dir}/${hash}`;
  }

  /**
   * Makes sure every chunk is on disk, fetching the missing ones in batches;
   * returns the small ones it fetched, so they need not be read back.
   */
  async ensure(client: VolumeClient, hashes: string[]): Promise<Map<string, Uint8Array>> {
    await Deno.mkdir(this.#dir, { recursive: true });
    const missing: string[] = [];
    const waits: Promise<void>[] = [];
    const fresh = new Map<string, Uint8Array>();
    for (const h of new Set(hashes)) {
      const pending = this.#pending.get(h);
      if (pending) waits.push(pending);
      else if (!this.#onDisk.has(h) && !exists(this.path(h))) missing.push(h);
    }
    if (missing.length) {
      const fetched = client.fetchChunks(missing, (hash, data) => {
        // Sync calls: for many small chunks the thread-pool hop of async ones dominates.
        const tmp = `${this.path(hash)}.${crypto.randomUUID()}.tmp`;
        Deno.writeFileSync(tmp, data);
        Deno.renameSync(tmp, this.path(hash));
        this.#onDisk.add(hash);
        if (data.length <= SMALL_CHUNK_BYTES) fresh.set(hash, data);
      });
      for (const h of missing) this.#pending.set(h, fetched);
      fetched.finally(() => missing.forEach((h) => this.#pending.delete(h))).catch(() => {});
      waits.push(fetched);
    }
    await Promise.all(waits);
    return fresh;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * One sandbox's copy of one volume.
 * @ignore (its signatures name the wire-layer `VolumeClient`)
 */
export class VolumeCopy {
  /** The volume's name. */
  readonly name: string;
  /** The host directory the sandbox mounts. */
  readonly dir: string;
  readonly #client: VolumeClient;
  readonly #cache: ChunkCache;
  readonly #known = new Map<string, Known>();
  #version = 0n;
  /** Commits and reloads of one copy run one at a time. */
  #chain: Promise<unknown> = Promise.resolve();

  /** A copy of `client`'s volume in `dir`, its chunks cached in `cache`. */
  constructor(client: VolumeClient, dir: string, cache: ChunkCache) {
    this.name = client.name;
    this.#client = client;
    this.dir = dir;
    this.#cache = cache;
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(work);
    this.#chain = next.catch(() => {});
    return next;
  }

  /** Creates the directory (writable by the sandbox's user) and fills it. */
  async load(): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true });
    await Deno.chmod(this.dir, 0o777);
    await this.reload();
  }

  /** Brings in committed changes: files that changed remotely are replaced, removed ones removed. */
  reload(): Promise<void> {
    return this.#serial(async () => {
      const tree = await this.#client.tree(this.#version);
      if (!tree) return;
      this.#dirs.clear(); // the sandbox may have removed directories since

      const changed: VolumeEntry[] = [];
      for (const [path, e] of tree.entries) {
        if (this.#known.get(path)?.chunks !== e.chunks.join()) changed.push(e);
      }
      const fresh = await this.#cache.ensure(this.#client, changed.flatMap((e) => e.chunks));
      for (const path of [...this.#known.keys()]) {
        if (tree.entries.has(path)) continue;
        await Deno.remove(`${this.dir}/${path}`).catch(() => {});
        this.#known.delete(path);
      }
      for (const e of changed) await this.#materialize(e, fresh);
      this.#version = tree.version;
    });
  }

  async #materialize(e: VolumeEntry, fresh: Map<string, Uint8Array>): Promise<void> {
    const target = `${this.dir}/${e.path}`;
    this.#mkdirs(e.path);
    const tmp = `${this.dir}/.nm-${crypto.randomUUID()}.tmp`;
    if (e.chunks.length === 0) Deno.writeFileSync(tmp, new Uint8Array());
    else if (fresh.has(e.chunks[0]) && e.chunks.length === 1) {
      Deno.writeFileSync(tmp, fresh.get(e.chunks[0])!);
    } else if (e.chunks.length === 1) Deno.copyFileSync(this.#cache.path(e.chunks[0]), tmp);
    else {
      using out = await Deno.open(tmp, { write: true, create: true, truncate: true });
      for (const h of e.chunks) {
        using chunk = await Deno.open(this.#cache.path(h));
        await chunk.readable.pipeTo(out.writable, { preventClose: true });
      }
    }
    Deno.chmodSync(tmp, 0o666);
    try {
      Deno.renameSync(tmp, target);
    } catch {
      // A directory (or something else) is in the way: the volume's file wins.
      Deno.removeSync(target, { recursive: true });
      Deno.renameSync(tmp, target);
    }
    const stat = Deno.statSync(target);
    this.#known.set(e.path, {
      chunks: e.chunks.join(),
      size: stat.size,
      mtimeMs: stat.mtime?.getTime() ?? 0,
    });
  }

  #dirs = new Set<string>();

  #mkdirs(path: string): void {
    const parts = path.split("/").slice(0, -1);
    let dir = this.dir;
    for (const part of parts) {
      dir += `/${part}`;
      if (this.#dirs.has(dir)) continue;
      try {
        const st = Deno.lstatSync(dir);
        if (!st.isDirectory) throw new Deno.errors.NotFound();
      } catch {
        // Missing, or a file in the way of a directory of the volume.
        try {
          Deno.removeSync(dir);
        } catch {
          // Nothing there.
        }
        Deno.mkdirSync(dir);
        Deno.chmodSync(dir, 0o777);
      }
      this.#dirs.add(dir);
    }
  }

  /** Publishes what changed in the directory since it was loaded, in one atomic commit. */
  commit(): Promise<void> {
    return this.#serial(async () => {
      const seen = new Set<string>();
      const changes: VolumeChange[] = [];
      const changed: { path: string; localPath: string; mtimeMs: number }[] = [];
      for await (const { path, stat } of walk(this.dir, "")) {
        seen.add(path);
        const known = this.#known.get(path);
        const mtimeMs = stat.mtime?.getTime() ?? 0;
        if (known && known.size === stat.size && known.mtimeMs === mtimeMs) continue;
        if (stat.size > MAX_FILE_BYTES) {
          throw new Error(
            `Cannot commit volume "${this.name}": ${path} is ${stat.size} bytes, over the ${MAX_FILE_BYTES}-byte file limit (nothing was committed)`,
          );
        }
        changed.push({ path, localPath: `${this.dir}/${path}`, mtimeMs });
      }
      const entries = await this.#client.uploadFiles(changed);
      const updates = new Map<string, Known>();
      entries.forEach((entry, i) => {
        changes.push(writeChange(entry));
        updates.set(entry.path, {
          chunks: entry.chunks.join(),
          size: Number(entry.size),
          mtimeMs: changed[i].mtimeMs,
        });
      });
      for (const path of this.#known.keys()) if (!seen.has(path)) changes.push(removeChange(path));
      if (!changes.length) return;
      await this.#client.commit(changes);
      for (const c of changes) if (c.deleted) this.#known.delete(c.path);
      for (const [path, k] of updates) this.#known.set(path, k);
    });
  }
}

/** Regular files below `root`, with paths relative to it (symlinks and temp files skipped). */
async function* walk(
  root: string,
  rel: string,
): AsyncGenerator<{ path: string; stat: Deno.FileInfo }> {
  for await (const entry of Deno.readDir(rel ? `${root}/${rel}` : root)) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory) yield* walk(root, path);
    else if (entry.isFile && !(rel === "" && entry.name.startsWith(".nm-"))) {
      yield { path, stat: await Deno.lstat(`${root}/${path}`) };
    }
  }
}
