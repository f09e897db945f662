/**
 * Deployed apps on the control plane: versions by name, lookups that always
 * land on the current version, stop, history, rollback and kept logs. The
 * records live in `store.apps` (apps, functions) and `store.deployments`
 * (names, versions), so every control plane on one store agrees.
 */
import { Code, ConnectError, create, fromBinary, toBinary } from "../proto/deps.ts";
import {
  type AppVersion,
  AppVersionSchema,
  type LogLine,
  LogLineSchema,
} from "../proto/messages.ts";
import type {
  AppRecord,
  DeploymentStore,
  DeploymentVersion,
  FunctionRecord,
  Store,
} from "./store/mod.ts";
import type { Clock } from "../proto/clock.ts";
import { newId } from "./_ids.ts";
import { didYouMean } from "./_closest.ts";
import { checkName } from "./_validate.ts";
import { stopAppRecord } from "./_stop_app.ts";
import { unchangedIds } from "./_unchanged_deploy.ts";

/** Log lines kept per deployed app for `app logs`. */
const KEPT_LOG_LINES = 2_000;

/** What a deploy did. */
export interface DeployOutcome {
  appId: string;
  functionIds: Record<string, string>;
  version: number;
  unchanged: boolean;
}

/** Callbacks to the workers of this control plane. */
export interface DeploymentHooks {
  /** An app stopped: its queued inputs are gone; stop its containers. */
  stopped(appId: string): void;
  /** A version was superseded: let its containers finish, then stop them. */
  drained(appId: string): void;
}

function failed(message: string): never {
  throw new ConnectError(message, Code.FailedPrecondition);
}

/** Deployed apps over a store. */
export class Deployments {
  readonly #all: Store;
  readonly #store: DeploymentStore;
  readonly #clock: Clock;
  readonly #hooks: DeploymentHooks;
  /** App id -> name, for apps known to be deployed (their logs are kept). */
  readonly #deployedNames = new Map<string, string | null>();

  constructor(store: Store, clock: Clock, hooks: DeploymentHooks) {
    this.#all = store;
    this.#store = store.deployments;
    this.#clock = clock;
    this.#hooks = hooks;
  }

  /** The deployment store (ephemeral heartbeats live there too). */
  get store(): DeploymentStore {
    return this.#store;
  }

  /**
   * Records a deploy: a new version unless the bundle and functions equal the
   * current version's. Refuses a name a live ephemeral run holds.
   */
  async deploy(app: AppRecord, functions: FunctionRecord[]): Promise<DeployOutcome> {
    const running = (await this.#all.apps.listApps({ live: true })).find((a) =>
      a.ephemeral && !a.stopped && a.name === app.name
    );
    if (running) {
      failed(
        `App name "${app.name}" is in use by a running \`nano-modal run\`: stop that run, or deploy with --name OTHER`,
      );
    }
    const current = await this.#store.getDeployment(app.name);
    if (current && !current.stopped) {
      const same = await unchangedIds(this.#all, { currentAppId: current.appId, app, functions });
      if (same) {
        return {
          appId: current.appId,
          functionIds: same,
          version: current.version,
          unchanged: true,
        };
      }
    }
    await this.#all.apps.putApp(app, functions);
    const v = await this.#store.recordVersion(app.name, {
      appId: app.appId,
      nowMs: this.#clock.now(),
    });
    this.#deployedNames.set(app.appId, app.name);
    if (current && current.appId !== app.appId && !current.stopped) {
      this.#hooks.drained(current.appId);
    }
    return { appId: app.appId, functionIds: app.functionIds, version: v.version, unchanged: false };
  }

  /**
   * The function new calls to `fn` should run: the same-named function of
   * the current version when `fn` belongs to a superseded one.
   */
  async current(fn: FunctionRecord, app: AppRecord): Promise<FunctionRecord> {
    if (app.ephemeral) return fn;
    const d = await this.#store.getDeployment(app.name);
    if (!d) return fn;
    if (d.stopped) this.#stoppedError(app.name);
    if (d.appId === app.appId) return fn;
    const now = await this.#all.apps.getApp(d.appId);
    const id = now?.functionIds[fn.name];
    const next = id && await this.#all.apps.getFunction(id);
    if (!next) {
      failed(`Function "${fn.name}" is no longer part of app "${app.name}" (version ${d.version})`);
    }
    return next;
  }

  #stoppedError(name: string): never {
    failed(`App "${name}" is stopped: deploy it again with \`nano-modal deploy\``);
  }

  /** The current version's function `functionName` of the deployed app `appName`. */
  async lookup(
    appName: string,
    functionName: string,
  ): Promise<{ functionId: string; appId: string; version: number }> {
    checkName("app name", appName);
    checkName("function name", functionName);
    const d = await this.#store.getDeployment(appName);
    if (!d) {
      const names = (await this.#store.listDeployments()).map((x) => x.name);
      throw new ConnectError(
        `No deployed app named "${appName}"${didYouMean(appName, names)}${
          names.length ? "" : " (deploy one with `nano-modal deploy APP.ts`)"
        }`,
        Code.NotFound,
      );
    }
    if (d.stopped) this.#stoppedError(appName);
    const app = await this.#all.apps.getApp(d.appId);
    const functionId = app?.functionIds[functionName];
    if (!app || !functionId) {
      const names = Object.keys(app?.functionIds ?? {});
      throw new ConnectError(
        `Cannot find function "${functionName}" in app "${appName}"${
          didYouMean(functionName, names) || ` (it has ${names.join(", ") || "none"})`
        }`,
        Code.NotFound,
      );
    }
    return { functionId, appId: d.appId, version: d.version };
  }

  /** Stops every version of a deployed app, or the running ephemeral apps of that name. */
  async stop(name: string): Promise<void> {
    const running = (await this.#all.apps.listApps({ live: true })).filter((a) =>
      a.ephemeral && !a.stopped && a.name === name
    );
    for (const app of running) {
      await stopAppRecord(this.#all, app.appId);
      await this.#store.forgetApp(app.appId);
      this.#hooks.stopped(app.appId);
    }
    if (running.length && !(await this.#store.getDeployment(name))) return;
    const versions = await this.#versionsOf(name);
    await this.#store.stopDeployment(name);
    for (const appId of new Set(versions.map((v) => v.appId))) {
      await stopAppRecord(this.#all, appId);
      this.#hooks.stopped(appId);
    }
  }

  async #versionsOf(name: string): Promise<DeploymentVersion[]> {
    checkName("app name", name);
    const versions = await this.#store.versions(name);
    if (versions.length === 0) {
      const names = (await this.#store.listDeployments()).map((x) => x.name);
      throw new ConnectError(
        `No deployed app named "${name}"${didYouMean(name, names)}`,
        Code.NotFound,
      );
    }
    return versions;
  }

  /** A deployed app's versions, and the current one. */
  async history(name: string): Promise<{ versions: AppVersion[]; current: number }> {
    const versions = await this.#versionsOf(name);
    const d = await this.#store.getDeployment(name);
    const out = await Promise.all(versions.map(async (v) => {
      const app = await this.#all.apps.getApp(v.appId);
      return create(AppVersionSchema, {
        version: v.version,
        appId: v.appId,
        createdMs: v.createdMs,
        rollbackOf: v.rollbackOf,
        bundleHash: app?.bundleHash ?? "",
        functionNames: Object.keys(app?.functionIds ?? {}),
      });
    }));
    return { versions: out, current: d?.stopped ? 0 : d?.version ?? 0 };
  }

  /** Records a new version that runs what `version` ran. */
  async rollback(name: string, version: number): Promise<{ version: number; appId: string }> {
    const versions = await this.#versionsOf(name);
    const target = versions.find((v) => v.version === version);
    if (!target) {
      throw new ConnectError(
        `App "${name}" has no version ${version}: its versions are 1 to ${versions.length} (see \`nano-modal app history ${name}\`)`,
        Code.NotFound,
      );
    }
    const old = await this.#all.apps.getApp(target.appId);
    if (!old) failed(`Version ${version} of app "${name}" is no longer stored`);
    const appId = newId("ap");
    const functions: FunctionRecord[] = [];
    for (const [fnName, id] of Object.entries(old.functionIds)) {
      const fn = await this.#all.apps.getFunction(id);
      if (fn) functions.push({ functionId: newId("fu"), appId, name: fnName, def: fn.def });
    }
    const app: AppRecord = {
      ...old,
      appId,
      stopped: false,
      createdMs: this.#clock.now(),
      functionIds: Object.fromEntries(functions.map((f) => [f.name, f.functionId])),
    };
    const previous = await this.#store.getDeployment(name);
    await this.#all.apps.putApp(app, functions);
    const v = await this.#store.recordVersion(name, {
      appId,
      nowMs: this.#clock.now(),
      rollbackOf: version,
    });
    this.#deployedNames.set(appId, name);
    if (previous && !previous.stopped) this.#hooks.drained(previous.appId);
    return { version: v.version, appId };
  }

  /** Keeps log lines of deployed apps for `app logs`. */
  async keepLogs(appId: string, lines: LogLine[]): Promise<void> {
    let name = this.#deployedNames.get(appId);
    if (name === undefined) {
      const app = await this.#all.apps.getApp(appId);
      name = app && !app.ephemeral ? app.name : null;
      this.#deployedNames.set(appId, name);
    }
    if (!name) return;
    await this.#store.appendLogs(
      name,
      lines.map((l) => toBinary(LogLineSchema, l)),
      KEPT_LOG_LINES,
    );
  }

  /** The latest kept log lines of a deployed app. */
  async recentLogs(name: string, max: number): Promise<LogLine[]> {
    await this.#versionsOf(name);
    const raw = await this.#store.recentLogs(name, Math.min(max || 200, KEPT_LOG_LINES));
    return raw.map((b) => fromBinary(LogLineSchema, b));
  }

  /** What a worker running `appId` should do with its containers. */
  async appState(appId: string): Promise<"live" | "stopped" | "drain"> {
    const app = await this.#all.apps.getApp(appId);
    if (!app || app.stopped) return "stopped";
    if (app.ephemeral) return "live";
    const d = await this.#store.getDeployment(app.name);
    return d && d.appId !== appId ? "drain" : "live";
  }

  /** Every app id a deployed name has had (for following its logs). */
  async appIds(name: string): Promise<string[]> {
    return [...new Set((await this.#versionsOf(name)).map((v) => v.appId))];
  }
}
