/**
 * {@linkcode VolumeStore} in memory: for tests and a control plane with no
 * durable store configured.
 * @module
 */
import {
  type CommitResult,
  under,
  type VolumeChangeRecord,
  type VolumeFile,
  type VolumeLimits,
  type VolumeStore,
  type VolumeSummary,
} from "./volume_store.ts";

interface Volume {
  createdMs: number;
  version: number;
  files: Map<string, VolumeFile>;
  bytes: number;
}

/** Volumes and chunks in Maps. */
export class MemoryVolumeStore implements VolumeStore {
  readonly #volumes = new Map<string, Volume>();
  readonly #chunks = new Map<string, Uint8Array>();

  createVolume(name: string, createdMs: number): Promise<boolean> {
    if (this.#volumes.has(name)) return Promise.resolve(false);
    this.#volumes.set(name, { createdMs, version: 0, files: new Map(), bytes: 0 });
    return Promise.resolve(true);
  }

  #summary(name: string, v: Volume): VolumeSummary {
    return {
      name,
      createdMs: v.createdMs,
      version: v.version,
      files: v.files.size,
      bytes: v.bytes,
    };
  }

  getVolume(name: string): Promise<VolumeSummary | undefined> {
    const v = this.#volumes.get(name);
    return Promise.resolve(v && this.#summary(name, v));
  }

  listVolumes(): Promise<VolumeSummary[]> {
    const names = [...this.#volumes.keys()].sort();
    return Promise.resolve(names.map((n) => this.#summary(n, this.#volumes.get(n)!)));
  }

  deleteVolume(name: string): Promise<boolean> {
    return Promise.resolve(this.#volumes.delete(name));
  }

  readTree(name: string): Promise<{ version: number; files: VolumeFile[] } | undefined> {
    const v = this.#volumes.get(name);
    if (!v) return Promise.resolve(undefined);
    const files = [...v.files.values()].map((f) => ({ ...f, chunks: [...f.chunks] }));
    return Promise.resolve({ version: v.version, files });
  }

  commit(name: string, changes: VolumeChangeRecord[], limits: VolumeLimits): Promise<CommitResult> {
    const v = this.#volumes.get(name);
    if (!v) return Promise.resolve({ ok: false, reason: "missing" });
    const next = new Map(v.files);
    for (const change of changes) {
      if (change.file) next.set(change.path, { ...change.file, chunks: [...change.file.chunks] });
      else for (const path of next.keys()) if (under(path, change.path)) next.delete(path);
    }
    let bytes = 0;
    for (const f of next.values()) bytes += f.size;
    if (bytes > limits.maxBytes || next.size > limits.maxFiles) {
      return Promise.resolve({ ok: false, reason: "full", files: next.size, bytes });
    }
    v.files = next;
    v.bytes = bytes;
    v.version++;
    return Promise.resolve({ ok: true, version: v.version });
  }

  missingChunks(hashes: string[]): Promise<string[]> {
    return Promise.resolve(hashes.filter((h) => !this.#chunks.has(h)));
  }

  putChunk(hash: string, data: Uint8Array): Promise<void> {
    this.#chunks.set(hash, data.slice());
    return Promise.resolve();
  }

  getChunk(hash: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.#chunks.get(hash));
  }
}
