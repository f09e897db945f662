/**
 * What a runner is: the one part that differs between the deno subprocess
 * sandbox and Docker containers. The worker loop, the pool and the
 * entrypoint protocol are shared; a runner only prepares images and starts
 * sandboxes that run the entrypoint.
 * @module
 */
import type { ImageSpec } from "./image_spec.ts";

/**
 * What a runner reads of a function's definition. The wire's `FunctionDef`
 * (`proto/nano_modal.proto`) satisfies it; naming only these fields keeps
 * protobuf's types out of the seam.
 */
export interface FunctionSpec {
  /** The function's name. */
  readonly name: string;
  /** The container image; undefined means `Image.deno()`. */
  readonly image?: ImageSpec;
  /** Memory limit of one sandbox, in MiB. */
  readonly memoryMib: number;
  /** CPU share of one sandbox (1 = one core). */
  readonly cpu: number;
  /** Whether the sandbox runs with no network but its socket to the worker. */
  readonly blockNetwork: boolean;
  /** Secrets whose variables the sandbox gets, in order (see `_state_runner.ts`). */
  readonly secretNames?: readonly string[];
  /** Volumes mounted into the sandbox, by absolute path. */
  readonly volumes?: readonly { readonly path: string; readonly volumeName: string }[];
}

/** Everything needed to start one sandbox. */
export interface SandboxSpec {
  /** Unique id, also used in container names. */
  sandboxId: string;
  /** The app the function belongs to (containers are labelled with it). */
  appId: string;
  /** The app's name, passed to the entrypoint. */
  appName: string;
  /** The function the sandbox runs. */
  functionName: string;
  /** The function's definition: limits, network, image. */
  def: FunctionSpec;
  /** Host path of the app bundle (read-only for the sandbox). */
  bundlePath: string;
  /** Host path of the bundled entrypoint (read-only for the sandbox). */
  entrypointPath: string;
  /** Host directory holding the unix socket `sock` the sandbox connects to. */
  socketDir: string;
  /**
   * Extra host paths to show inside the sandbox (volumes), at `target`.
   * The deno runner binds them into its namespace; without bubblewrap it
   * cannot give them their paths. @default []
   */
  mounts?: { source: string; target: string; readOnly: boolean }[];
  /** Called with each chunk the sandbox writes to stdout (1) or stderr (2). */
  onOutput(fd: 1 | 2, text: string, inputId?: string): void;
  /** Variables of the function's secrets, added to the sandbox's environment. */
  env?: Record<string, string>;
}

/** How a sandbox ended. */
export interface SandboxExit {
  /** The exit code, or null when a signal ended the sandbox. */
  code: number | null;
  /** The signal that ended the sandbox (`SIGKILL`), or null. */
  signal: string | null;
  /** The sandbox was killed for exceeding its memory limit. */
  oom: boolean;
}

/** A started sandbox. */
export interface Sandbox {
  /** The id it was started with ({@linkcode SandboxSpec.sandboxId}). */
  readonly id: string;
  /** Resolves when the sandbox has ended, for whatever reason. */
  readonly exited: Promise<SandboxExit>;
  /** Stops the sandbox at once. */
  kill(): Promise<void>;
  /** Commits or reloads a mounted volume, when the sandbox asks (see `_state_runner.ts`). */
  volumeOp?(op: "commit" | "reload", name: string): Promise<void>;
}

/** Progress of an image build, streamed to the caller. */
export type BuildLog = (line: string) => void;

/**
 * Fetches a content-addressed blob (a local file the client added to an
 * image) from the control plane; resolves to a host path holding it.
 */
export type FetchBlob = (hash: string) => Promise<string>;

/** What {@linkcode Runner.prepare} may use while it makes a function's image. */
export interface PrepareOptions {
  /** Where build progress goes (streamed to the caller). */
  log: BuildLog;
  /** Fetches files the image adds; without it, an image that adds files fails. */
  fetchBlob?: FetchBlob;
}

/** A way to run sandboxes. */
export interface Runner {
  /** Which runner this is, as workers report it to the control plane. */
  readonly name: "deno" | "docker";
  /**
   * Makes sure what the function needs (its image) exists; may build it
   * once. Rejects with an `ImageBuildError` naming the failing step.
   */
  prepare(def: FunctionSpec, options: PrepareOptions): Promise<void>;
  /** Starts a sandbox running the entrypoint. */
  start(spec: SandboxSpec): Promise<Sandbox>;
  /** Removes sandboxes left over by an earlier run of this worker host. */
  cleanup(): Promise<void>;
  /**
   * Keeps a sandbox ready (a deno process, a docker container) for the next
   * function that starts like it; returns what stops keeping it.
   */
  keepSpare?(options: SpareOptions): () => Promise<void>;
}

/** How a spare sandbox starts (see {@linkcode Runner.keepSpare}). */
export interface SpareOptions {
  /** The worker's cache dir (its sandboxes live in `sandboxes/` there). */
  cacheDir: string;
  /** The memory limit it starts with. @default 512, the SDK's default `memoryMiB` */
  memoryMib?: number;
  /**
   * Load ahead the SDK the last bundle began with (runner/_spare_sdk.ts). That code comes from
   * a client's bundle and runs before the spare has an app, unattributed: `true` only for a
   * runner whose bundles are its own user's (`nano-modal run`). `"built-here"`, for a worker
   * serving any client: only an SDK this host's own `nano-modal run` built into the worker's
   * cache dir (the same SDK as the worker's own when they share it), never one a client sent.
   * @default false
   */
  preloadSdk?: boolean | "built-here";
  /**
   * While this says so, a spare that was taken is not replaced yet (for at most
   * `MAX_REFILL_WAIT_MS`, `_spare_slot.ts`): starting one takes a core for a while, from
   * inputs that need it now, for an app that may come later.
   */
  busy?: () => boolean;
}

/** The SDK's default `memoryMiB` (sdk/_options.ts): spare sandboxes start with it. */
export const DEFAULT_MEMORY_MIB = 512;
