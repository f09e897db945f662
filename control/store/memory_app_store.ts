/**
 * {@linkcode AppStore} in this process's memory.
 * @module
 */
import type { AppRecord, AppStore, FunctionRecord } from "./app_store.ts";

/** Apps and functions in memory, handed out as copies. */
export class MemoryAppStore implements AppStore {
  #apps = new Map<string, AppRecord>();
  #functions = new Map<string, FunctionRecord>();

  putApp(app: AppRecord, functions: FunctionRecord[]): Promise<void> {
    this.#apps.set(app.appId, structuredClone(app));
    for (const fn of functions) this.#functions.set(fn.functionId, structuredClone(fn));
    return Promise.resolve();
  }

  getApp(appId: string): Promise<AppRecord | undefined> {
    const app = this.#apps.get(appId);
    return Promise.resolve(app && structuredClone(app));
  }

  listApps(): Promise<AppRecord[]> {
    return Promise.resolve([...this.#apps.values()].map((a) => structuredClone(a)));
  }

  stopApp(appId: string): Promise<boolean> {
    const app = this.#apps.get(appId);
    if (app) app.stopped = true;
    return Promise.resolve(app !== undefined);
  }

  getFunction(functionId: string): Promise<FunctionRecord | undefined> {
    const fn = this.#functions.get(functionId);
    return Promise.resolve(fn && structuredClone(fn));
  }
}
