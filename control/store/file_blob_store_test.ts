import { equal } from "node:assert/strict";
import { FileBlobStore } from "./file_blob_store.ts";
import { FakeClock } from "../../proto/fake_clock.ts";

const HASH = "ab" + "0".repeat(62);

/**
 * Deletes an old blob while a client asks for it during the delete's n-th stat (as another
 * request on the event loop, or another process on the data dir, may). Returns what the
 * client was told and whether the blob is there after.
 */
async function askDuringDelete(nthStat: number): Promise<{ told: boolean; there: boolean }> {
  const dir = await Deno.makeTempDir();
  const clock = new FakeClock(Date.now());
  const blobs = new FileBlobStore(dir, clock);
  const realStat = Deno.stat;
  try {
    await blobs.put(HASH, new Uint8Array([1]));
    clock.advance(7_200_000);
    const cutoff = clock.now() - 3_600_000;
    const old = await blobs.untouchedSince(cutoff);
    equal(old.length, 1);
    let told: boolean | undefined;
    let stats = 0;
    (Deno as { stat: typeof Deno.stat }).stat = async (p) => {
      const s = await realStat(p);
      if (++stats === nthStat) told = await blobs.has(HASH);
      return s;
    };
    await blobs.deleteUntouched(old, cutoff);
    (Deno as { stat: typeof Deno.stat }).stat = realStat;
    equal(told !== undefined, true, "the client asked");
    return { told: told!, there: (await blobs.get(HASH)) !== undefined };
  } finally {
    (Deno as { stat: typeof Deno.stat }).stat = realStat;
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("FileBlobStore: a blob a client was told is there is never deleted by a concurrent sweep", async () => {
  // Asked during the first look: it counts as used, and stays.
  const first = await askDuringDelete(1);
  equal(first.told, true);
  equal(first.there, true);
  // Asked once it was moved aside: the client hears "not there" (and uploads it again).
  const second = await askDuringDelete(2);
  equal(second.told, false);
  equal(second.there, false);
});
