/**
 * The CLI's view of the SDK runtime, through the shared global symbol (the
 * contract in sdk/_runtime.ts), so it finds apps whichever copy of the SDK
 * the user's module imported.
 */
export interface RunOptionsView {
  serverUrl: string;
  token?: string;
  entryUrl: string;
  args: string[];
}

/** How the CLI asks an app to deploy. */
export interface DeployOptionsView {
  serverUrl: string;
  token?: string;
  entryUrl: string;
  name?: string;
}

/** What a deploy did. */
export interface DeployResultView {
  name: string;
  appId: string;
  version: number;
  unchanged: boolean;
  functions: string[];
}

/** An app as the CLI sees it. */
export interface AppView {
  readonly name: string;
  readonly functions: ReadonlyMap<string, unknown>;
  readonly hasEntrypoint: boolean;
  run(options: RunOptionsView): Promise<void>;
  deploy(options: DeployOptionsView): Promise<DeployResultView>;
}

interface RuntimeView {
  mode?: string;
  apps: AppView[];
}

/** The runtime object, created if no SDK has loaded yet. */
export function runtimeView(): RuntimeView {
  const g = globalThis as unknown as Record<symbol, RuntimeView | undefined>;
  return g[Symbol.for("nano-modal.runtime")] ??= { apps: [] };
}
