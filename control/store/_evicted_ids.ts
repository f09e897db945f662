/**
 * The ids of the calls a store evicted lately, so that fetching one says "evicted" instead of
 * "unknown". Kept as 31-bit hashes in a Set (small integers sit in the Set's table itself, about
 * 24 bytes each) and capped, oldest dropped first: at most ~1.5 MiB however much is evicted. A hash
 * collision makes an unknown id read as evicted, about once in 30,000 unknown ids at the cap.
 */

/** The number of evicted ids remembered. */
export const EVICTED_IDS_KEPT = 65_536;

/** FNV-1a of the id, folded to a non-negative small integer. */
function hashId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 1;
}

/** The most recently evicted call ids (as hashes), oldest forgotten first. */
export class EvictedIds {
  readonly #hashes = new Set<number>();
  readonly #max: number;
  /** Calls evicted since this store started. */
  count = 0;

  constructor(max = EVICTED_IDS_KEPT) {
    this.#max = max;
  }

  /** Remembers that `callId` was evicted. */
  add(callId: string): void {
    this.count++;
    const h = hashId(callId);
    this.#hashes.delete(h);
    this.#hashes.add(h);
    if (this.#hashes.size > this.#max) {
      this.#hashes.delete(this.#hashes.values().next().value!);
    }
  }

  /** Whether `callId` was among the recently evicted. */
  has(callId: string): boolean {
    return this.#hashes.has(hashId(callId));
  }
}
