/** What {@linkcode WarmSandbox.run} (`_warm_sandbox.ts`) is told about one input. */
import type { DoneMessage, WebMessage } from "./_protocol.ts";

/**
 * What becomes of one input given to `WarmSandbox.start`, told to one object: no promise or
 * closures per input on the way (a map's inputs pass by the thousand). Exactly one of `done`
 * and `failed` is called, once.
 */
export interface RunEvents {
  /** The input started in the sandbox (not while it waited queued there). */
  onStart?(): void;
  /** Its result. */
  done(msg: DoneMessage): void;
  /** The sandbox died, or was dead, before its result. */
  failed(err: unknown): void;
}

/** How {@linkcode WarmSandbox.run} runs one input. */
export interface SandboxRun {
  /** The function's name in the bundle. */
  fn: string;
  /** At most this many inputs at once in the sandbox; the rest queue there, in order. */
  max?: number;
  /** Runs when the input starts in the sandbox (not while it waits queued there; `run` only). */
  onStart?: () => void;
  /** For a web input: where its response frames go. */
  web?: WebStream;
}

/** How a web input's response reaches the worker. */
export interface WebStream {
  onMessage(msg: WebMessage): void;
}
