/**
 * Moving volume content over the wire, for every side that does it (the SDK
 * outside functions, the CLI, workers syncing their copies): read a tree,
 * upload only the chunks the store lacks, download chunks in bounded
 * messages, commit changes.
 * @module
 */
import { type Client, createClient, type Transport } from "./deps.ts";
import { type VolumeChange, type VolumeEntry, VolumeService } from "./messages.ts";
import { sha256Hex } from "./content_hash.ts";
import { CHUNK_BYTES } from "./volume_files.ts";

/** Chunks per upload or download message (12 × 4 MiB stays under the message limit). */
const BATCH = 12;

/** Reports bytes moved so far (for progress bars). */
export type Progress = (bytes: number) => void;

/** A volume's files by path, at a version. */
export interface VolumeTree {
  version: bigint;
  entries: Map<string, VolumeEntry>;
}

/** One volume, reached through a transport. */
export class VolumeClient {
  readonly name: string;
  readonly #client: Client<typeof VolumeService>;

  constructor(transport: Transport, name: string) {
    this.name = name;
    this.#client = createClient(VolumeService, transport);
  }

  /** The raw service client (create, list, delete). */
  get service(): Client<typeof VolumeService> {
    return this.#client;
  }

  /** The tree, or `undefined` when it is still at `knownVersion`. */
  async tree(knownVersion = 0n): Promise<VolumeTree | undefined> {
    const res = await this.#client.getVolumeTree({ name: this.name, knownVersion });
    if (res.unchanged) return undefined;
    return { version: res.version, entries: new Map(res.entries.map((e) => [e.path, e])) };
  }

  /** Uploads the chunks the store lacks. */
  async putChunks(chunks: Map<string, Uint8Array>): Promise<void> {
    const { missing } = await this.#client.missingChunks({ hashes: [...chunks.keys()] });
    for (let i = 0; i < missing.length; i += BATCH) {
      const part = missing.slice(i, i + BATCH);
      await this.#client.putChunks({
        chunks: part.map((hash) => ({ hash, data: chunks.get(hash)! })),
      });
    }
  }

  /**
   * Chunks a file on disk, uploading what the store lacks a few chunks at a
   * time (memory stays bounded for big files); returns its entry.
   */
  async uploadFile(path: string, localPath: string, progress?: Progress): Promise<VolumeEntry> {
    using file = await Deno.open(localPath);
    const stat = await file.stat();
    const hashes: string[] = [];
    let batch = new Map<string, Uint8Array>();
    let size = 0;
    while (true) {
      const chunk = await readChunk(file);
      if (chunk.length) {
        const hash = await sha256Hex(chunk);
        hashes.push(hash);
        batch.set(hash, chunk);
        size += chunk.length;
      }
      if (batch.size >= BATCH || (chunk.length < CHUNK_BYTES && batch.size)) {
        await this.putChunks(batch);
        progress?.([...batch.values()].reduce((n, c) => n + c.length, 0));
        batch = new Map();
      }
      if (chunk.length < CHUNK_BYTES) break;
    }
    return {
      $typeName: "nanomodal.v1.VolumeEntry",
      path,
      size: BigInt(size),
      chunks: hashes,
      mtimeMs: stat.mtime?.getTime() ?? Date.now(),
    };
  }

  /** Uploads bytes held in memory; returns their entry. */
  async uploadBytes(path: string, data: Uint8Array): Promise<VolumeEntry> {
    const hashes: string[] = [];
    const chunks = new Map<string, Uint8Array>();
    for (let at = 0; at < data.length; at += CHUNK_BYTES) {
      const part = data.subarray(at, at + CHUNK_BYTES);
      const hash = await sha256Hex(part);
      hashes.push(hash);
      chunks.set(hash, part);
    }
    await this.putChunks(chunks);
    return {
      $typeName: "nanomodal.v1.VolumeEntry",
      path,
      size: BigInt(data.length),
      chunks: hashes,
      mtimeMs: Date.now(),
    };
  }

  /** Fetches chunks by hash, a bounded batch per message, calling `sink` in order. */
  async getChunks(
    hashes: string[],
    sink: (hash: string, data: Uint8Array) => Promise<void> | void,
  ): Promise<void> {
    for (let i = 0; i < hashes.length; i += BATCH) {
      const part = hashes.slice(i, i + BATCH);
      const { chunks } = await this.#client.getChunks({ hashes: [...new Set(part)] });
      const byHash = new Map(chunks.map((c) => [c.hash, c.data]));
      for (const h of part) await sink(h, byHash.get(h)!);
    }
  }

  /** A whole file's content. */
  async readEntry(entry: VolumeEntry): Promise<Uint8Array> {
    const out = new Uint8Array(Number(entry.size));
    let at = 0;
    await this.getChunks(entry.chunks, (_h, data) => {
      out.set(data, at);
      at += data.length;
    });
    return out;
  }

  /** Applies changes atomically; returns the new version. */
  async commit(changes: VolumeChange[]): Promise<bigint> {
    if (!changes.length) return (await this.tree())!.version;
    return (await this.#client.commitVolume({ name: this.name, changes })).version;
  }
}

/** A change writing `entry`. */
export function writeChange(entry: VolumeEntry): VolumeChange {
  return { $typeName: "nanomodal.v1.VolumeChange", path: entry.path, deleted: false, entry };
}

/** A change removing `path` and everything below it. */
export function removeChange(path: string): VolumeChange {
  return { $typeName: "nanomodal.v1.VolumeChange", path, deleted: true };
}

async function readChunk(file: Deno.FsFile): Promise<Uint8Array> {
  const buf = new Uint8Array(CHUNK_BYTES);
  let len = 0;
  while (len < CHUNK_BYTES) {
    const n = await file.read(buf.subarray(len));
    if (n === null) break;
    len += n;
  }
  return buf.subarray(0, len);
}

/** One entry of a volume directory listing. */
export interface VolumeDirEntry {
  /** The entry's name within its directory. */
  name: string;
  /** Its path from the volume root. */
  path: string;
  /** A file (otherwise a directory). */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
  /** Bytes of a file; 0 for a directory. */
  size: number;
  /** When a file was last written, in ms since the epoch. */
  mtimeMs: number;
}

/** The children of directory `dir` ("" = root) of a tree, by name; undefined if no such directory. */
export function listDir(tree: VolumeTree, dir: string): VolumeDirEntry[] | undefined {
  const prefix = dir ? `${dir}/` : "";
  const children = new Map<string, VolumeDirEntry>();
  for (const [path, e] of tree.entries) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    const slash = rest.indexOf("/");
    const name = slash < 0 ? rest : rest.slice(0, slash);
    if (children.has(name)) continue;
    const isFile = slash < 0;
    children.set(name, {
      name,
      path: prefix + name,
      isFile,
      isDirectory: !isFile,
      size: isFile ? Number(e.size) : 0,
      mtimeMs: isFile ? e.mtimeMs : 0,
    });
  }
  if (!children.size && dir) return undefined;
  return [...children.values()].sort((a, b) => a.name < b.name ? -1 : 1);
}
