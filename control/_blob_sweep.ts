/**
 * Deletes the blobs nothing refers to any more: bundles of apps forgotten
 * (a run's, a retention period after it stopped) and the contents of volume
 * files since overwritten or deleted, in stores that keep those as blobs.
 *
 * A blob goes only if no app (running, stopped, or a deployed version), no
 * function's image and no volume file refers to it, and it was not stored or
 * asked for during the grace period: whoever is about to refer to a blob asks
 * for it first (a client before `CreateApp`, a volume commit for its chunks),
 * and the store checks that time again as it deletes.
 * @module
 */
import { fromBinary } from "../proto/deps.ts";
import { type FunctionDef, FunctionDefSchema } from "../proto/messages.ts";
import type { Store } from "./store/mod.ts";

/**
 * A blob stored or asked for this recently is never deleted: a day, longer
 * than any upload takes (a volume's files are all uploaded before its one
 * commit refers to them; an image's files before the app that uses them).
 */
export const BLOB_GRACE_MS = 86_400_000;

/** The blobs a function's image refers to (`addLocalFile`, `addLocalDir`). */
export function imageFiles(def: FunctionDef): string[] {
  const hashes: string[] = [];
  for (const { layer } of def.image?.layers ?? []) {
    if (layer.case === "file") hashes.push(layer.value.hash);
    if (layer.case === "dir") { for (const f of layer.value.files) hashes.push(f.hash); }
  }
  return hashes;
}

/** Every blob hash a record of `store` refers to. */
async function referenced(store: Store): Promise<Set<string>> {
  const refs = new Set<string>();
  for (const app of await store.apps.listApps()) {
    refs.add(app.bundleHash);
    if (app.imageFiles) {
      for (const hash of app.imageFiles) refs.add(hash);
      continue;
    }
    // A record from before apps listed their image files: read its functions.
    for (const functionId of Object.values(app.functionIds)) {
      const fn = await store.apps.getFunction(functionId);
      if (fn) {
        for (const hash of imageFiles(fromBinary(FunctionDefSchema, fn.def))) refs.add(hash);
      }
    }
  }
  for (const volume of await store.volumes.listVolumes()) {
    const tree = await store.volumes.readTree(volume.name);
    for (const file of tree?.files ?? []) for (const chunk of file.chunks) refs.add(chunk);
  }
  return refs;
}

/** Deletes the blobs of `store` unreferenced and unused for `graceMs` before `nowMs`; returns how many. */
export async function sweepBlobs(
  store: Store,
  nowMs: number,
  graceMs = BLOB_GRACE_MS,
): Promise<number> {
  const cutoff = nowMs - graceMs;
  // Listed before the references are read: a blob referred to after this was asked for after it.
  const old = await store.blobs.untouchedSince(cutoff);
  if (old.length === 0) return 0;
  const refs = await referenced(store);
  return await store.blobs.deleteUntouched(old.filter((hash) => !refs.has(hash)), cutoff);
}
