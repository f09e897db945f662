/** What {@linkcode WarmSandbox.run} (`_warm_sandbox.ts`) is told about one input. */
import type { WebMessage } from "./_protocol.ts";

/** How {@linkcode WarmSandbox.run} runs one input. */
export interface SandboxRun {
  /** The function's name in the bundle. */
  fn: string;
  /** At most this many inputs at once in the sandbox; the rest queue there, in order. */
  max?: number;
  /** Runs when the input starts in the sandbox (not while it waits queued there). */
  onStart?: () => void;
  /** For a web input: where its response frames go. */
  web?: WebStream;
}

/** How a web input's response reaches the worker. */
export interface WebStream {
  onMessage(msg: WebMessage): void;
}
