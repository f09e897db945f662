/**
 * {@linkcode AppStore} in this process's memory.
 * @module
 */
import type { AppRecord, AppStore, FunctionRecord } from "./app_store.ts";
import { type Clock, systemClock } from "../../proto/clock.ts";
import { DEFAULT_RETENTION_MS } from "./store.ts";

/** Apps and functions in memory, handed out as copies. */
export class MemoryAppStore implements AppStore {
  #apps = new Map<string, AppRecord>();
  #functions = new Map<string, FunctionRecord>();
  /** When each stopped app stopped, by the clock. */
  #stoppedMs = new Map<string, number>();
  #clock: Clock;
  #retentionMs: number;

  /** Forgets stopped ephemeral apps `retentionMs` of `clock` time after they stop. */
  constructor(clock: Clock = systemClock, retentionMs = DEFAULT_RETENTION_MS) {
    this.#clock = clock;
    this.#retentionMs = retentionMs;
  }

  putApp(app: AppRecord, functions: FunctionRecord[]): Promise<void> {
    this.#apps.set(app.appId, structuredClone(app));
    if (!app.stopped) this.#stoppedMs.delete(app.appId);
    else if (!this.#stoppedMs.has(app.appId)) this.#stoppedMs.set(app.appId, this.#clock.now());
    for (const fn of functions) this.#functions.set(fn.functionId, structuredClone(fn));
    return Promise.resolve();
  }

  getApp(appId: string): Promise<AppRecord | undefined> {
    const app = this.#apps.get(appId);
    return Promise.resolve(app && structuredClone(app));
  }

  listApps(options: { live?: boolean } = {}): Promise<AppRecord[]> {
    const apps = [...this.#apps.values()].filter((a) => !options.live || !a.stopped);
    return Promise.resolve(apps.map((a) => structuredClone(a)));
  }

  stopApp(appId: string): Promise<boolean> {
    const app = this.#apps.get(appId);
    if (app && !app.stopped) {
      app.stopped = true;
      this.#stoppedMs.set(appId, this.#clock.now());
    }
    return Promise.resolve(app !== undefined);
  }

  getFunction(functionId: string): Promise<FunctionRecord | undefined> {
    const fn = this.#functions.get(functionId);
    return Promise.resolve(fn && structuredClone(fn));
  }

  forgetStopped(): Promise<number> {
    const before = this.#clock.now() - this.#retentionMs;
    let forgotten = 0;
    for (const [appId, stoppedMs] of this.#stoppedMs) {
      if (stoppedMs >= before) continue;
      const app = this.#apps.get(appId);
      this.#stoppedMs.delete(appId);
      if (!app?.ephemeral) continue; // deployed: kept
      for (const fid of Object.values(app.functionIds)) this.#functions.delete(fid);
      this.#apps.delete(appId);
      forgotten++;
    }
    return Promise.resolve(forgotten);
  }
}
