/**
 * The SDK's side of the runtime contract (proto/runtime.ts): process-wide
 * state on `globalThis` under a registered symbol, so that every copy of the
 * SDK in a process, the CLI and the in-sandbox entrypoint agree on it.
 */
import type { Runtime, RuntimeSymbolName } from "../proto/runtime.ts";
import type { Session } from "./_session.ts";

export type { DeployOptions, DeployResult, RegisteredApp, RunOptions } from "../proto/runtime.ts";

/** The shared object, with the SDK's private fields beside the contract's. */
export interface SdkRuntime extends Runtime {
  /** The client session while an app runs. */
  session?: Session;
  /** In a container: the session of calls made from inside functions. */
  nestedSession?: import("./_nested_calls.ts").NestedSession;
  /** A session made from the environment for calls outside an app (`FunctionCall.fromId`). */
  detached?: Promise<Session>;
  /** Whether the client/server version warning was printed (once per process). */
  versionWarned?: boolean;
}

const NAME: RuntimeSymbolName = "nano-modal.runtime";

/** The process's runtime state, created on first use. */
export function runtime(): SdkRuntime {
  const g = globalThis as unknown as Record<symbol, SdkRuntime | undefined>;
  return g[Symbol.for(NAME)] ??= { apps: [] };
}
