/**
 * The CLI's side of the runtime contract (proto/runtime.ts): it finds apps
 * through the shared global symbol, whichever copy of the SDK the user's
 * module imported.
 */
import type { RegisteredApp, Runtime, RuntimeSymbolName } from "../proto/runtime.ts";

/** An app as the CLI sees it. */
export type AppView = RegisteredApp;

const NAME: RuntimeSymbolName = "nano-modal.runtime";

/** The runtime object, created if no SDK has loaded yet. */
export function runtimeView(): Runtime {
  const g = globalThis as unknown as Record<symbol, Runtime | undefined>;
  return g[Symbol.for(NAME)] ??= { apps: [] };
}
