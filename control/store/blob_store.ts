/**
 * Content-addressed blobs: app bundles, image files and (in the embedded
 * store) volume file contents. A blob's name is the hex SHA-256 of its bytes,
 * so a blob never changes once written and any copy of it is as good as
 * another.
 *
 * Each blob remembers when it was last stored or asked for (`put`, `has`, by
 * the store's clock): whoever is about to refer to a blob asks for it first,
 * so a blob untouched for a while and referred to by no record can go
 * (control/_blob_sweep.ts), and {@linkcode BlobStore.deleteUntouched} checks
 * the time again as it deletes, so a blob asked for meanwhile stays.
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
  /** Whether the blob is stored (which counts as a use of it). */
  has(hash: string): Promise<boolean>;
  /** The blob's bytes, if stored. */
  get(hash: string): Promise<Uint8Array | undefined>;
  /**
   * The blobs not stored or asked for since `beforeMs`. Blobs that predate
   * use times (an older store) count as used when first listed.
   */
  untouchedSince(beforeMs: number): Promise<string[]>;
  /** Deletes those of `hashes` still untouched since `beforeMs`; returns how many went. */
  deleteUntouched(hashes: string[], beforeMs: number): Promise<number>;
  /** The largest blob this store accepts, in bytes. */
  readonly maxBytes: number;
}
