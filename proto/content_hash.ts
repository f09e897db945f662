/**
 * Content addresses: bundles and image files travel and are stored under the
 * hex SHA-256 of their bytes, computed the same way by clients, control planes
 * and workers.
 * @module
 */

/**
 * Hex SHA-256 of `data`.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./content_hash.ts";
 * console.log((await sha256Hex(new Uint8Array())).length); // 64
 * ```
 */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>),
  );
  return toHex(digest);
}

/** `bytes` as lowercase hex, two digits each. */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}
