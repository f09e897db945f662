/**
 * {@linkcode BlobStore} in files: `<dir>/<first two characters>/<hash>`.
 * A blob is written to a temporary file in `<dir>/tmp`, flushed, then
 * renamed into place, so a reader (in this process or another on the same
 * data dir) sees the whole blob or none of it; two writers of one blob write
 * the same bytes, so the last rename is as good as the first. A blob's
 * modification time is when it was last stored or asked for (by the store's
 * clock), which {@linkcode FileBlobStore.untouchedSince} reads.
 * @module
 */
import type { BlobStore } from "./blob_store.ts";
import { type Clock, systemClock } from "../../proto/clock.ts";
import { removeUnusedSince } from "../../proto/remove_unused.ts";

const NAME = /^[A-Za-z0-9_-]{1,128}$/;

/** Blobs as files under one directory. */
export class FileBlobStore implements BlobStore {
  readonly maxBytes: number = 1024 * 1024 * 1024;
  #dir: string;
  #clock: Clock;

  /** Keeps blobs under `dir`, which it creates if needed; notes uses by `clock`. */
  constructor(dir: string, clock: Clock = systemClock) {
    this.#dir = dir;
    this.#clock = clock;
  }

  async put(hash: string, data: Uint8Array): Promise<void> {
    if (data.byteLength > this.maxBytes) {
      throw new RangeError(`Blob of ${data.byteLength} bytes is too large`);
    }
    const path = this.#path(hash);
    if (await this.#touch(path)) return;
    const tmpDir = `${this.#dir}/tmp`;
    await Deno.mkdir(tmpDir, { recursive: true });
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const tmp = `${tmpDir}/${hash}.${crypto.randomUUID()}`;
    try {
      using file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
      for (let at = 0; at < data.byteLength;) at += await file.write(data.subarray(at));
      await file.syncData();
      const now = this.#clock.now() / 1000;
      await Deno.utime(tmp, now, now);
    } catch (error) {
      await Deno.remove(tmp).catch(() => {});
      throw error;
    }
    await Deno.rename(tmp, path);
  }

  /**
   * Removes temporary files older than `ageMs` at `nowMs`: uploads of
   * writers that died mid-write. Returns how many.
   */
  async removeAbandoned(nowMs: number, ageMs: number): Promise<number> {
    let removed = 0;
    try {
      for await (const entry of Deno.readDir(`${this.#dir}/tmp`)) {
        const path = `${this.#dir}/tmp/${entry.name}`;
        const mtime = (await Deno.stat(path).catch(() => undefined))?.mtime?.getTime();
        if (mtime === undefined || nowMs - mtime < ageMs) continue;
        await Deno.remove(path).then(() => removed++, () => {});
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return removed;
  }

  has(hash: string): Promise<boolean> {
    return this.#touch(this.#path(hash));
  }

  /** Notes a use of the blob at `path`; `false` if there is none. */
  async #touch(path: string): Promise<boolean> {
    const now = this.#clock.now() / 1000;
    try {
      await Deno.utime(path, now, now);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }

  async untouchedSince(beforeMs: number): Promise<string[]> {
    const old: string[] = [];
    for (const dir of await entries(this.#dir)) {
      if (dir === "tmp") continue; // uploads under way
      for (const name of await entries(`${this.#dir}/${dir}`)) {
        if ((await modifiedMs(`${this.#dir}/${dir}/${name}`)) < beforeMs) old.push(name);
      }
    }
    return old;
  }

  async deleteUntouched(hashes: string[], beforeMs: number): Promise<number> {
    const tmpDir = `${this.#dir}/tmp`;
    await Deno.mkdir(tmpDir, { recursive: true });
    let deleted = 0;
    for (const hash of hashes) {
      const path = this.#path(hash);
      if ((await modifiedMs(path)) >= beforeMs) continue; // used since it was listed
      // Moved aside before its last check: a blob a caller was just told is there stays.
      const aside = `${tmpDir}/${hash}.${crypto.randomUUID()}.gc`;
      if ((await removeUnusedSince(path, beforeMs, aside)) !== null) deleted++;
    }
    return deleted;
  }

  async get(hash: string): Promise<Uint8Array | undefined> {
    try {
      return await Deno.readFile(this.#path(hash));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  #path(hash: string): string {
    if (!NAME.test(hash)) throw new TypeError(`"${hash.slice(0, 80)}" is not a blob name`);
    return `${this.#dir}/${hash.slice(0, 2)}/${hash}`;
  }
}

/** The names in a directory; none if it does not exist. */
async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names;
}

/** A file's modification time in ms; Infinity if it is gone (never "old"). */
async function modifiedMs(path: string): Promise<number> {
  const stat = await Deno.stat(path).catch(() => undefined);
  return stat?.mtime?.getTime() ?? Infinity;
}
