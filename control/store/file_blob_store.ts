/**
 * {@linkcode BlobStore} in files: `<dir>/<first two characters>/<hash>`.
 * A blob is written to a temporary file in `<dir>/tmp`, flushed, then
 * renamed into place, so a reader (in this process or another on the same
 * data dir) sees the whole blob or none of it; two writers of one blob write
 * the same bytes, so the last rename is as good as the first.
 * @module
 */
import type { BlobStore } from "./blob_store.ts";

const NAME = /^[A-Za-z0-9_-]{1,128}$/;

/** Blobs as files under one directory. */
export class FileBlobStore implements BlobStore {
  readonly maxBytes: number = 1024 * 1024 * 1024;
  #dir: string;

  /** Keeps blobs under `dir`, which it creates if needed. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  async put(hash: string, data: Uint8Array): Promise<void> {
    if (data.byteLength > this.maxBytes) {
      throw new RangeError(`Blob of ${data.byteLength} bytes is too large`);
    }
    const path = this.#path(hash);
    if (await exists(path)) return;
    const tmpDir = `${this.#dir}/tmp`;
    await Deno.mkdir(tmpDir, { recursive: true });
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const tmp = `${tmpDir}/${hash}.${crypto.randomUUID()}`;
    try {
      using file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
      for (let at = 0; at < data.byteLength;) at += await file.write(data.subarray(at));
      await file.syncData();
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
    return exists(this.#path(hash));
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

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
