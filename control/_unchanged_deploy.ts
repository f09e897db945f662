/** Whether a deploy changes nothing: then it records no new version. */
import type { AppRecord, FunctionRecord, Store } from "./store/mod.ts";

/** The deploy to compare with the current version. */
export interface DeployToCompare {
  /** The current version's app. */
  currentAppId: string;
  /** The app being deployed. */
  app: AppRecord;
  /** Its functions. */
  functions: FunctionRecord[];
}

/**
 * The current version's function ids when the deploy has its bundle, entry and
 * function definitions byte for byte; undefined when anything differs.
 */
export async function unchangedIds(
  store: Store,
  deploy: DeployToCompare,
): Promise<Record<string, string> | undefined> {
  const { app, functions } = deploy;
  const old = await store.apps.getApp(deploy.currentAppId);
  if (!old || old.stopped || old.bundleHash !== app.bundleHash) return undefined;
  if (old.entryUrl !== app.entryUrl) return undefined;
  if (Object.keys(old.functionIds).length !== functions.length) return undefined;
  for (const fn of functions) {
    const id = old.functionIds[fn.name];
    const rec = id && await store.apps.getFunction(id);
    if (!rec || !sameBytes(rec.def, fn.def)) return undefined;
  }
  return old.functionIds;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
