/**
 * The volumes store: named trees of path -> file (size and content chunks),
 * changed only by atomic commits, and the content-addressed chunks the files
 * are made of. Memory and Redis implementations are held to one conformance
 * suite (`volume_store_conformance.ts`).
 * @module
 */

/** One file of a volume. */
export interface VolumeFile {
  /** Canonical path inside the volume (see `proto/volume_files.ts`). */
  path: string;
  /** Its size in bytes. */
  size: number;
  /** Hex SHA-256 of each chunk, in order. */
  chunks: string[];
  /** When it was last written, in ms since the epoch. */
  mtimeMs: number;
}

/** A volume and its totals. */
export interface VolumeSummary {
  /** The volume's name. */
  name: string;
  /** When it was created. */
  createdMs: number;
  /** Raised by every commit. */
  version: number;
  /** How many files it holds. */
  files: number;
  /** Their total size. */
  bytes: number;
}

/** One change of a commit: a file written, or (without `file`) a path and all below it removed. */
export interface VolumeChangeRecord {
  /** The path changed. */
  path: string;
  /** What is written there; absent for a removal. */
  file?: VolumeFile;
}

/** Limits a commit must keep. */
export interface VolumeLimits {
  /** Largest total size. */
  maxBytes: number;
  /** Most files. */
  maxFiles: number;
}

/** How a commit ended: applied whole, or not at all. */
export type CommitResult =
  | { ok: true; version: number }
  | { ok: false; reason: "missing" | "full"; files?: number; bytes?: number };

/** The contract every volumes store implements; all methods are safe to call concurrently. */
export interface VolumeStore {
  /** Whether it was created (false: it existed). */
  createVolume(name: string, createdMs: number): Promise<boolean>;
  /** A volume's totals, if it exists. */
  getVolume(name: string): Promise<VolumeSummary | undefined>;
  /** Every volume, by name. */
  listVolumes(): Promise<VolumeSummary[]>;
  /** Whether it existed. Its chunks stay (they may be shared). */
  deleteVolume(name: string): Promise<boolean>;
  /** Every file and the version they belong to, read at one instant. */
  readTree(name: string): Promise<{ version: number; files: VolumeFile[] } | undefined>;
  /**
   * Applies changes in order, all or none: readers see the whole commit or
   * nothing of it. Later commits win per path.
   */
  commit(name: string, changes: VolumeChangeRecord[], limits: VolumeLimits): Promise<CommitResult>;
  /** The hashes of `hashes` the store does not hold. */
  missingChunks(hashes: string[]): Promise<string[]>;
  /** Stores a chunk under its hash. */
  putChunk(hash: string, data: Uint8Array): Promise<void>;
  /** A chunk, if stored. */
  getChunk(hash: string): Promise<Uint8Array | undefined>;
}

/** Whether `path` is `prefix` or lies below it. */
export function under(path: string, prefix: string): boolean {
  return prefix === "" || path === prefix || path.startsWith(`${prefix}/`);
}
