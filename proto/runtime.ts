/**
 * The runtime contract: process-wide state on
 * `globalThis[Symbol.for("nano-modal.runtime")]`, shared by every copy of the
 * SDK in a process (the one a user's module imports, the one inside a bundle),
 * the CLI (`nano-modal run` finds apps here) and the in-sandbox entrypoint
 * (which sets `mode` and finds the bundle's functions here).
 *
 * Type-only on purpose: it is the one description of that object, and the
 * parties meet on it through a registered symbol, never through an import of
 * each other's code.
 *
 * The protocol:
 * 1. Whoever comes first creates the object (`{ apps: [] }`).
 * 2. The entrypoint sets `mode = "container"` before importing a bundle; the
 *    CLI sets `mode = "cli"` before importing the user's module. A plain
 *    script leaves it unset.
 * 3. Each `new App(name)` pushes a {@linkcode RegisteredApp} onto `apps`.
 * 4. The entrypoint calls functions from `apps[i].functions`; the CLI calls
 *    `apps[i].run(options)`.
 * @module
 */

/** The name `Symbol.for()` takes to find the runtime object on `globalThis`. */
export type RuntimeSymbolName = "nano-modal.runtime";

/** How the CLI asks an app to run (`nano-modal run`). */
export interface RunOptions {
  /** The control plane's URL. */
  serverUrl: string;
  /** The control plane's token, if it has one. */
  token?: string;
  /** file: URL of the module that defines the app (it is bundled). */
  entryUrl: string;
  /** Arguments after `--`, passed to the local entrypoint (or to `functionName`). */
  args: string[];
  /**
   * Run this function once with `args` (each JSON-parsed where it parses)
   * instead of the local entrypoint, and print its result (`run APP.ts::fn`).
   */
  functionName?: string;
  /** Keep the app running when this client exits or dies (`run --detach`). */
  detach?: boolean;
  /**
   * Set when the control plane at `serverUrl` starts on demand (the CLI's
   * embedded one): the app calls it once it has started the work that needs
   * no server (bundling), so that both overlap, and connects when it
   * resolves (or fails with its error).
   */
  startServer?: () => Promise<void>;
}

/** How the CLI asks an app to deploy (`nano-modal deploy`). */
export interface DeployOptions {
  /** The control plane's URL. */
  serverUrl: string;
  /** The control plane's token, if it has one. */
  token?: string;
  /** file: URL of the module that defines the app (it is bundled). */
  entryUrl: string;
  /** Deploy under this name instead of the app's own. */
  name?: string;
}

/** What a deploy did. */
export interface DeployResult {
  /** The name the app is deployed under. */
  name: string;
  /** The app record of the current version. */
  appId: string;
  /** The current version. */
  version: number;
  /** Nothing changed since the current version (it stays current). */
  unchanged: boolean;
  /** The app's function names. */
  functions: string[];
}

/** What an `App` exposes through the runtime. */
export interface RegisteredApp {
  /** The app's name. */
  readonly name: string;
  /** The user's functions by name, as the entrypoint calls them. */
  readonly functions: ReadonlyMap<string, (...args: unknown[]) => unknown>;
  /** Whether the app has a local entrypoint. */
  readonly hasEntrypoint: boolean;
  /** Creates the app on the server, runs the local entrypoint, then stops the app. */
  run(options: RunOptions): Promise<void>;
  /** Uploads the app and records a new deployed version (or keeps an unchanged one). */
  deploy(options: DeployOptions): Promise<DeployResult>;
  /** In a container, when it stops: runs the app's exit hooks (a class's `@exit`). */
  shutdown?(): Promise<void>;
}

/** The shared object. Parties may keep private fields of their own beside these. */
export interface Runtime {
  /** "container" inside a sandbox, "cli" under `nano-modal run`, unset in a plain script. */
  mode?: "container" | "cli";
  /** Every app created in this process, in creation order. */
  apps: RegisteredApp[];
  /**
   * Set by the entrypoint inside a sandbox: asks the worker to commit or
   * reload a mounted volume (what `vol.commit()` / `vol.reload()` call).
   */
  volumeOp?: (op: "commit" | "reload", name: string) => Promise<void>;
  /**
   * Set by the entrypoint in a container: makes a control-plane call
   * (`method` of ControlService with the plain fields of its request) through
   * the worker, on behalf of the input running in the caller's async context.
   * Rejects with an error whose `codeName` is a Connect code name.
   */
  nested?: NestedCall;
}

/** See {@linkcode Runtime.nested}. */
export type NestedCall = (
  method: string,
  req: Record<string, unknown>,
) => Promise<Record<string, unknown>>;
