/**
 * What clients, control planes and workers agree on about volumes: names,
 * paths inside a volume, the chunking of file contents, and the size limits.
 * A file is stored as content-addressed chunks of at most
 * {@linkcode CHUNK_BYTES}, so only changed chunks ever travel.
 * @module
 */
import { sha256Hex } from "./content_hash.ts";

/** Largest chunk of a file's content. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
/** Largest file a volume holds (documented in the README). */
export const MAX_FILE_BYTES = 1024 * 1024 * 1024;
/** Largest total size of a volume's files (documented in the README). */
export const MAX_VOLUME_BYTES = 16 * 1024 * 1024 * 1024;
/** Most files a volume holds. */
export const MAX_VOLUME_FILES = 1_000_000;

const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Whether `name` is a valid volume or secret name. */
export function validName(name: string): boolean {
  return typeof name === "string" && VOLUME_NAME.test(name);
}

/**
 * The canonical form of a path inside a volume: relative, `/`-separated, no
 * `.`/`..` segments. A leading `/` is allowed; `""` is the root. Returns
 * undefined when the path escapes the root or has empty/NUL parts.
 *
 * @example
 * ```ts
 * import { normalizeVolumePath } from "./volume_files.ts";
 * console.log(normalizeVolumePath("/a/./b/")); // "a/b"
 * ```
 */
export function normalizeVolumePath(path: string): string | undefined {
  if (typeof path !== "string" || path.includes("\0") || path.length > 4096) return undefined;
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") return undefined;
    parts.push(part);
  }
  return parts.join("/");
}

/** Splits content into chunks and hashes each; returns the hashes in order and the chunks. */
export async function chunkContent(
  data: Uint8Array,
): Promise<{ hashes: string[]; chunks: Map<string, Uint8Array> }> {
  const hashes: string[] = [];
  const chunks = new Map<string, Uint8Array>();
  for (let at = 0; at < data.length; at += CHUNK_BYTES) {
    const part = data.subarray(at, at + CHUNK_BYTES);
    const hash = await sha256Hex(part);
    hashes.push(hash);
    chunks.set(hash, part);
  }
  return { hashes, chunks };
}
