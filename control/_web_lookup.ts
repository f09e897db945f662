/**
 * Which app and function `/web/<app>/<function>` names: a deployed name's
 * current version first, then the newest running app of that name. Lookups
 * are cached for a second (a stop on another control plane shows after that),
 * and a known endpoint is served from the cache while it is looked up again.
 */
import { fromBinary } from "../proto/deps.ts";
import { type FunctionDef, FunctionDefSchema } from "../proto/messages.ts";
import type { AppRecord, Store } from "./store/mod.ts";

/** An endpoint a name resolves to. */
export interface Endpoint {
  appId: string;
  functionId: string;
  def: FunctionDef;
}

/** A cached lookup of a name. */
interface LookupEntry {
  found: Promise<Endpoint | undefined>;
  /** When it was looked up (`performance.now()`). */
  atMs: number;
  /** What it found, once it did. */
  endpoint?: Endpoint;
  /** A new lookup is under way. */
  refreshing?: boolean;
}

/** How long a name → endpoint lookup is reused (a stop on another control plane shows after this). */
const LOOKUP_TTL_MS = 1_000;
/** A known endpoint is served from a lookup this old while it is looked up again. */
const LOOKUP_STALE_MS = 10_000;

/** Names of web endpoints, resolved through the store. */
export class WebLookup {
  readonly #store: Store;
  readonly #endpoints = new Map<string, LookupEntry>();
  /** Bumped when apps start or stop here: lookups begun before do not go into the cache. */
  #generation = 0;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Forgets every lookup (an app started or stopped here). */
  appsChanged(): void {
    this.#generation++;
    this.#endpoints.clear();
  }

  /** The endpoint `/web/<appName>/<fnName>` serves, if any. */
  find(appName: string, fnName: string): Promise<Endpoint | undefined> {
    const key = `${appName}/${fnName}`;
    const cached = this.#endpoints.get(key);
    const ageMs = cached ? performance.now() - cached.atMs : Infinity;
    if (cached && ageMs < LOOKUP_TTL_MS) return cached.found;
    // A known endpoint is served from the cache while it is looked up again: listing the
    // store's apps takes milliseconds, and a request would wait for it once a second.
    if (cached?.endpoint && ageMs < LOOKUP_STALE_MS) {
      if (!cached.refreshing) {
        cached.refreshing = true;
        this.#lookUp(key, appName, fnName, this.#generation);
      }
      return cached.found;
    }
    const entry = this.#lookUp(key, appName, fnName, this.#generation);
    this.#endpoints.set(key, entry);
    return entry.found;
  }

  /** Looks an endpoint up; the entry replaces the cached one once found (unless apps changed). */
  #lookUp(key: string, appName: string, fnName: string, generation: number): LookupEntry {
    const entry: LookupEntry = { found: this.#look(appName, fnName), atMs: performance.now() };
    entry.found.then((endpoint) => {
      entry.endpoint = endpoint;
      if (generation === this.#generation) this.#endpoints.set(key, entry);
    }, () => {
      if (this.#endpoints.get(key) === entry) this.#endpoints.delete(key);
    });
    return entry;
  }

  async #look(appName: string, fnName: string): Promise<Endpoint | undefined> {
    const app = await this.currentApp(appName);
    if (!app || !(fnName in app.functionIds)) return undefined;
    const record = await this.#store.apps.getFunction(app.functionIds[fnName]);
    if (!record) return undefined;
    const def = fromBinary(FunctionDefSchema, record.def);
    if (!def.web) return undefined;
    return { appId: app.appId, functionId: record.functionId, def };
  }

  /** The app requests for `appName` go to: a deployed name first, then its newest run. */
  async currentApp(appName: string): Promise<AppRecord | undefined> {
    const deployed = await this.#store.deployments.getDeployment(appName);
    let app = deployed && !deployed.stopped
      ? await this.#store.apps.getApp(deployed.appId)
      : undefined;
    if (!app || app.stopped) {
      app = (await this.#store.apps.listApps({ live: true }))
        .filter((a) => a.name === appName && a.ephemeral && !a.stopped)
        .sort((a, b) => b.createdMs - a.createdMs)[0];
    }
    return app && !app.stopped ? app : undefined;
  }
}
