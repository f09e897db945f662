/**
 * Process-wide SDK state, kept on `globalThis` under a registered symbol so
 * that every copy of the SDK in a process (the user's, a bundled one) and the
 * in-container entrypoint agree on it.
 *
 * The entrypoint contract: before importing a bundle, the entrypoint sets
 * `mode = "container"`; after import, `apps` holds every `App` the bundle
 * created, and `functionsOf(appName)` maps function names to the user's
 * functions. In container mode no entrypoint runs and no client connects.
 */
import type { Session } from "./_session.ts";

/** How `nano-modal run` starts an app. */
export interface RunOptions {
  serverUrl: string;
  token?: string;
  /** file: URL of the module that defines the app (it is bundled). */
  entryUrl: string;
  /** Arguments after `--`, passed to the local entrypoint. */
  args: string[];
}

/** How `nano-modal deploy` deploys an app. */
export interface DeployOptions {
  serverUrl: string;
  token?: string;
  /** file: URL of the module that defines the app (it is bundled). */
  entryUrl: string;
  /** Deploy under this name instead of the app's own. */
  name?: string;
}

/** What a deploy did. */
export interface DeployResult {
  name: string;
  appId: string;
  version: number;
  /** Nothing changed since the current version (it stays current). */
  unchanged: boolean;
  functions: string[];
}

/** What an `App` exposes through the runtime. */
export interface RegisteredApp {
  readonly name: string;
  readonly functions: ReadonlyMap<string, (...args: unknown[]) => unknown>;
  readonly hasEntrypoint: boolean;
  /** Creates the app on the server, runs the local entrypoint, then stops the app. */
  run(options: RunOptions): Promise<void>;
  /** Uploads the app and records a new deployed version. */
  deploy(options: DeployOptions): Promise<DeployResult>;
}

/** The shared state. */
export interface Runtime {
  /** "container" inside a sandbox, "cli" under `nano-modal run`, unset in a plain script. */
  mode?: "container" | "cli";
  apps: RegisteredApp[];
  /** The client session while an app runs. */
  session?: Session;
  /** A session made from the environment for `FunctionCall.fromId` outside an app. */
  detached?: Promise<Session>;
}

const KEY = Symbol.for("nano-modal.runtime");

/** The process's runtime state, created on first use. */
export function runtime(): Runtime {
  const g = globalThis as unknown as Record<symbol, Runtime | undefined>;
  return g[KEY] ??= { apps: [] };
}
