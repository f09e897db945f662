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

/** Bytes per upload message, and uploads in flight at once. */
const MESSAGE_BYTES = 8 * 1024 * 1024;
const IN_FLIGHT = 6;
/** Hashes named per download request (the server answers with up to 32 MiB of them). */
const ASK = 1024;
/** Small files read into memory per upload round. */
const ROUND_BYTES = 32 * 1024 * 1024;
const ROUND_FILES = 2_000;

/** Reports more bytes moved (for progress bars). */
export type Progress = (bytes: number) => void;

/** A volume's files by path, at a version. */
export interface VolumeTree {
  /** The version the files belong to. */
  version: bigint;
  /** Path -> entry. */
  entries: Map<string, VolumeEntry>;
}

/** One volume, reached through a transport. */
export class VolumeClient {
  /** The volume's name. */
  readonly name: string;
  readonly #client: Client<typeof VolumeService>;

  /** A client of volume `name` over `transport`. */
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

  /** Uploads the chunks the store lacks, a few bounded messages in flight at once. */
  async putChunks(chunks: Map<string, Uint8Array>): Promise<void> {
    if (!chunks.size) return;
    const { missing } = await this.#client.missingChunks({ hashes: [...chunks.keys()] });
    const messages: string[][] = [];
    let part: string[] = [];
    let bytes = 0;
    for (const hash of missing) {
      const n = chunks.get(hash)!.length;
      if (part.length && (bytes + n > MESSAGE_BYTES || part.length >= ASK)) {
        messages.push(part);
        part = [];
        bytes = 0;
      }
      part.push(hash);
      bytes += n;
    }
    if (part.length) messages.push(part);
    let next = 0;
    const lane = async () => {
      while (next < messages.length) {
        const hashes = messages[next++];
        await this.#client.putChunks({
          chunks: hashes.map((hash) => ({ hash, data: chunks.get(hash)! })),
        });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  }

  /**
   * Uploads files from disk (what the store lacks only) and returns their
   * entries in order. Small files go up many per message; big ones are
   * streamed a few chunks at a time, so memory stays bounded.
   */
  async uploadFiles(
    files: { path: string; localPath: string }[],
    progress?: Progress,
  ): Promise<VolumeEntry[]> {
    const entries: VolumeEntry[] = new Array(files.length);
    let round = new Map<string, Uint8Array>();
    let roundBytes = 0;
    let roundFiles = 0;
    const flush = async () => {
      await this.putChunks(round);
      progress?.(roundBytes);
      round = new Map();
      roundBytes = 0;
      roundFiles = 0;
    };
    for (let i = 0; i < files.length; i++) {
      const { path, localPath } = files[i];
      const stat = await Deno.stat(localPath);
      if (stat.size > CHUNK_BYTES) {
        entries[i] = await this.uploadFile(path, localPath, progress);
        continue;
      }
      const data = await Deno.readFile(localPath);
      const hashes = data.length ? [await sha256Hex(data)] : [];
      if (data.length) round.set(hashes[0], data);
      entries[i] = entry(path, data.length, hashes, stat.mtime?.getTime() ?? Date.now());
      roundBytes += data.length;
      if (++roundFiles >= ROUND_FILES || roundBytes >= ROUND_BYTES) await flush();
    }
    await flush();
    return entries;
  }

  /**
   * Chunks a file on disk, uploading what the store lacks a few chunks at a
   * time (memory stays bounded for big files); returns its entry.
   */
  async uploadFile(path: string, localPath: string, progress?: Progress): Promise<VolumeEntry> {
    using file = await Deno.open(localPath);
    const stat = await file.stat();
    const hashes: string[] = [];
    let size = 0;
    let batch = new Map<string, Uint8Array>();
    let batchBytes = 0;
    const inFlight: Promise<void>[] = [];
    const send = async () => {
      const [chunks, bytes] = [batch, batchBytes];
      batch = new Map();
      batchBytes = 0;
      // Reading and hashing the next chunks overlaps with these uploads.
      inFlight.push(this.putChunks(chunks).then(() => progress?.(bytes)));
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    };
    while (true) {
      const chunk = await readChunk(file);
      if (chunk.length) {
        const hash = await sha256Hex(chunk);
        hashes.push(hash);
        batch.set(hash, chunk);
        batchBytes += chunk.length;
        size += chunk.length;
      }
      if (batchBytes >= MESSAGE_BYTES || (chunk.length < CHUNK_BYTES && batch.size)) await send();
      if (chunk.length < CHUNK_BYTES) break;
    }
    await Promise.all(inFlight);
    return entry(path, size, hashes, stat.mtime?.getTime() ?? Date.now());
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
    return entry(path, data.length, hashes, Date.now());
  }

  /** Fetches chunks by hash in bounded answers, calling `sink` in order (repeats included). */
  async getChunks(
    hashes: string[],
    sink: (hash: string, data: Uint8Array) => Promise<void> | void,
  ): Promise<void> {
    let at = 0;
    while (at < hashes.length) {
      const ask = [...new Set(hashes.slice(at, at + ASK))];
      const { chunks } = await this.#client.getChunks({ hashes: ask });
      if (!chunks.length) throw new Error(`The server sent none of ${ask.length} chunks`);
      const got = new Map(chunks.map((c) => [c.hash, c.data]));
      while (at < hashes.length && got.has(hashes[at])) {
        await sink(hashes[at], got.get(hashes[at])!);
        at++;
      }
    }
  }

  /**
   * Fetches distinct chunks in any order, several answers in flight: for
   * filling a cache, where order does not matter.
   */
  async fetchChunks(
    hashes: string[],
    sink: (hash: string, data: Uint8Array) => Promise<void> | void,
  ): Promise<void> {
    const todo = [...new Set(hashes)];
    const lane = async () => {
      while (todo.length) {
        const ask = todo.splice(0, 8);
        const { chunks } = await this.#client.getChunks({ hashes: ask });
        if (!chunks.length) throw new Error(`The server sent none of ${ask.length} chunks`);
        const got = new Set(chunks.map((c) => c.hash));
        todo.push(...ask.filter((h) => !got.has(h)));
        for (const c of chunks) await sink(c.hash, c.data);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
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

function entry(path: string, size: number, chunks: string[], mtimeMs: number): VolumeEntry {
  return { $typeName: "nanomodal.v1.VolumeEntry", path, size: BigInt(size), chunks, mtimeMs };
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
