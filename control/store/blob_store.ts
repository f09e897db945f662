/**
 * Content-addressed blobs: app bundles now, volume file contents later. A
 * blob's name is the hex SHA-256 of its bytes, so a blob never changes once
 * written and any copy of it is as good as another.
 * @module
 */

/** Blobs by content hash. All methods are safe to call concurrently. */
export interface BlobStore {
  /**
   * Stores `data` under `hash`, which the caller has checked is its hex
   * SHA-256. Storing a blob that exists is a no-op.
   * @throws {RangeError} if `data` is larger than {@linkcode BlobStore.maxBytes}
   */
  put(hash: string, data: Uint8Array): Promise<void>;
  /** Whether the blob is stored. */
  has(hash: string): Promise<boolean>;
  /** The blob's bytes, if stored. */
  get(hash: string): Promise<Uint8Array | undefined>;
  /** The largest blob this store accepts, in bytes. */
  readonly maxBytes: number;
}
