/**
 * The volumes RPCs, for clients and workers alike: create, list and delete
 * volumes; read a volume's tree; move content chunks by hash (only missing
 * ones travel); and commit changes atomically within the size limits.
 * @module
 */
import { Code, ConnectError, type ServiceImpl } from "../proto/deps.ts";
import type { VolumeChange, VolumeEntry, VolumeService } from "../proto/messages.ts";
import { sha256Hex } from "../proto/content_hash.ts";
import {
  CHUNK_BYTES,
  MAX_FILE_BYTES,
  MAX_VOLUME_BYTES,
  MAX_VOLUME_FILES,
  normalizeVolumePath,
  validName,
} from "../proto/volume_files.ts";
import type { VolumeChangeRecord, VolumeStore } from "./store/volume_store.ts";

/** Options for {@linkcode createVolumeService}. */
export interface VolumeServiceOptions {
  store: VolumeStore;
  /** @default MAX_FILE_BYTES (1 GiB) */
  maxFileBytes?: number;
  /** @default MAX_VOLUME_BYTES (16 GiB) */
  maxVolumeBytes?: number;
  /** @default MAX_VOLUME_FILES */
  maxFiles?: number;
  now?: () => number;
}

const HEX64 = /^[0-9a-f]{64}$/;
/** Chunks named per PutChunks/GetChunks message. */
export const CHUNKS_PER_MESSAGE = 1024;
/** A GetChunks answer stops adding chunks past this size (the client asks again for the rest). */
const ANSWER_BYTES = 16 * 1024 * 1024;

function fail(message: string, code = Code.InvalidArgument): never {
  throw new ConnectError(message, code);
}

function checkVolumeName(name: string): void {
  if (!validName(name)) {
    fail(
      `Volume name ${
        JSON.stringify(String(name).slice(0, 80))
      } is not valid: use letters, digits, ".", "_" and "-" (up to 64 characters)`,
    );
  }
}

function missingVolume(name: string): ConnectError {
  return new ConnectError(
    `Volume "${name}" not found: create it with \`nano-modal volume create ${name}\` or Volume.fromName("${name}", { createIfMissing: true })`,
    Code.NotFound,
  );
}

function mib(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(1)} GiB`
    : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Implements `VolumeService`. */
export function createVolumeService(
  options: VolumeServiceOptions,
): ServiceImpl<typeof VolumeService> {
  const store = options.store;
  const maxFileBytes = options.maxFileBytes ?? MAX_FILE_BYTES;
  const limits = {
    maxBytes: options.maxVolumeBytes ?? MAX_VOLUME_BYTES,
    maxFiles: options.maxFiles ?? MAX_VOLUME_FILES,
  };
  const now = options.now ?? Date.now;

  function checkHashes(hashes: string[], max: number): void {
    if (hashes.length > max) fail(`At most ${max} chunks per request`);
    for (const h of hashes) if (!HEX64.test(h)) fail(`"${h.slice(0, 80)}" is not a chunk hash`);
  }

  function checkEntry(name: string, path: string, entry: VolumeEntry | undefined): void {
    if (!entry) fail(`The change to "${path}" has neither an entry nor deleted set`);
    const size = Number(entry.size);
    if (size > maxFileBytes) {
      fail(
        `File "${path}" is ${mib(size)}, over the volume file limit of ${
          mib(maxFileBytes)
        }: split it; nothing of this commit to "${name}" was applied`,
        Code.ResourceExhausted,
      );
    }
    checkHashes(entry.chunks, Math.ceil(maxFileBytes / CHUNK_BYTES) + 1);
    if (entry.chunks.length !== Math.ceil(size / CHUNK_BYTES)) {
      fail(`File "${path}" has ${entry.chunks.length} chunks for ${size} bytes`);
    }
  }

  /** Writes replace whatever was at their path (a directory) and above it (a file). */
  async function withReplacements(name: string, changes: VolumeChangeRecord[]) {
    if (!changes.some((c) => c.file)) return changes;
    const tree = await store.readTree(name);
    if (!tree) throw missingVolume(name);
    const files = new Set(tree.files.map((f) => f.path));
    const dirs = new Set<string>();
    for (const p of files) {
      for (let i = p.indexOf("/"); i > 0; i = p.indexOf("/", i + 1)) dirs.add(p.slice(0, i));
    }
    const out: VolumeChangeRecord[] = [];
    for (const c of changes) {
      if (c.file) {
        if (dirs.has(c.path)) out.push({ path: c.path });
        for (let i = c.path.indexOf("/"); i > 0; i = c.path.indexOf("/", i + 1)) {
          const above = c.path.slice(0, i);
          if (files.has(above)) out.push({ path: above });
        }
      }
      out.push(c);
    }
    return out;
  }

  return {
    async createVolume(req) {
      checkVolumeName(req.name);
      const created = await store.createVolume(req.name, now());
      if (!created && !req.existOk) {
        fail(`Volume "${req.name}" already exists`, Code.AlreadyExists);
      }
      return { created };
    },
    async listVolumes() {
      const all = await store.listVolumes();
      return {
        volumes: all.map((v) => ({
          name: v.name,
          createdMs: v.createdMs,
          version: BigInt(v.version),
          files: BigInt(v.files),
          bytes: BigInt(v.bytes),
        })),
      };
    },
    async deleteVolume(req) {
      checkVolumeName(req.name);
      if (!await store.deleteVolume(req.name)) throw missingVolume(req.name);
      return {};
    },
    async getVolumeTree(req) {
      checkVolumeName(req.name);
      const info = await store.getVolume(req.name);
      if (!info) throw missingVolume(req.name);
      if (req.knownVersion !== 0n && BigInt(info.version) === req.knownVersion) {
        return { version: req.knownVersion, unchanged: true, entries: [] };
      }
      const tree = await store.readTree(req.name);
      if (!tree) throw missingVolume(req.name);
      return {
        version: BigInt(tree.version),
        unchanged: false,
        entries: tree.files.map((f) => ({
          path: f.path,
          size: BigInt(f.size),
          chunks: f.chunks,
          mtimeMs: f.mtimeMs,
        })),
      };
    },
    async missingChunks(req) {
      checkHashes(req.hashes, 100_000);
      return { missing: await store.missingChunks(req.hashes) };
    },
    async putChunks(req) {
      checkHashes(req.chunks.map((c) => c.hash), CHUNKS_PER_MESSAGE);
      for (const chunk of req.chunks) {
        if (chunk.data.length > CHUNK_BYTES) fail(`A chunk holds at most ${CHUNK_BYTES} bytes`);
        if (await sha256Hex(chunk.data) !== chunk.hash) {
          fail(`Chunk ${chunk.hash} does not match its content: send it again`);
        }
      }
      await Promise.all(req.chunks.map((c) => store.putChunk(c.hash, c.data)));
      return {};
    },
    async getChunks(req) {
      checkHashes(req.hashes, CHUNKS_PER_MESSAGE);
      const chunks: { hash: string; data: Uint8Array }[] = [];
      let bytes = 0;
      for (const hash of req.hashes) {
        if (bytes >= ANSWER_BYTES) break;
        const data = await store.getChunk(hash);
        if (!data) fail(`Chunk ${hash} is missing from the store`, Code.NotFound);
        chunks.push({ hash, data });
        bytes += data.length;
      }
      return { chunks };
    },
    async commitVolume(req) {
      checkVolumeName(req.name);
      const changes = req.changes.map((c: VolumeChange): VolumeChangeRecord => {
        const path = normalizeVolumePath(c.path);
        if (path === undefined) fail(`"${c.path.slice(0, 200)}" is not a path inside a volume`);
        if (c.deleted) return { path };
        if (path === "") fail("The volume root is a directory, not a file");
        checkEntry(req.name, path, c.entry);
        const e = c.entry!;
        return {
          path,
          file: { path, size: Number(e.size), chunks: e.chunks, mtimeMs: e.mtimeMs || now() },
        };
      });
      const hashes = [...new Set(changes.flatMap((c) => c.file?.chunks ?? []))];
      const missing = await store.missingChunks(hashes);
      if (missing.length) {
        fail(
          `${missing.length} chunk(s) of this commit are not uploaded: upload them, then commit again`,
          Code.FailedPrecondition,
        );
      }
      const result = await store.commit(
        req.name,
        await withReplacements(req.name, changes),
        limits,
      );
      if (result.ok) return { version: BigInt(result.version) };
      if (result.reason === "missing") throw missingVolume(req.name);
      fail(
        result.bytes! > limits.maxBytes
          ? `Volume "${req.name}" would hold ${mib(result.bytes!)}, over its limit of ${
            mib(limits.maxBytes)
          }: remove files first; nothing of this commit was applied`
          : `Volume "${req.name}" would hold ${result.files} files, over its limit of ${limits.maxFiles}: remove files first; nothing of this commit was applied`,
        Code.ResourceExhausted,
      );
    },
  };
}
