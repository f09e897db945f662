/** What stopping an app does to the store, for ephemeral and deployed apps alike. */
import type { Store } from "./store/mod.ts";

/** Marks an app stopped and drops its queued inputs; `false` if there is no such app. */
export async function stopAppRecord(store: Store, appId: string): Promise<boolean> {
  const app = await store.apps.getApp(appId);
  if (!app || !(await store.apps.stopApp(appId))) return false;
  await store.queue.dropQueued(Object.values(app.functionIds));
  return true;
}
