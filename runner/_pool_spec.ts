/** What a {@linkcode FunctionPool} (`_pool.ts`) is given. */
import type { Clock } from "../proto/clock.ts";
import type { FunctionDef } from "../proto/messages.ts";
import type { DoneMessage, NestedHandler } from "./_protocol.ts";
import type { Runner, SandboxSpec } from "./runner.ts";
import type { Resources } from "./_resources.ts";
import type { WorkerFigures } from "./_figures.ts";
import type { WarmSandbox, WebStream } from "./_warm_sandbox.ts";
import type { PoolShare } from "./_scaling.ts";

/** What the pool needs to start sandboxes for a function. */
export interface PoolSpec {
  functionId: string;
  appId: string;
  appName: string;
  def: FunctionDef;
  bundlePath: string;
  entrypointPath: string;
  /** Directory for sandbox sockets. */
  rootDir: string;
  onOutput: SandboxSpec["onOutput"];
  /** Answers calls made from inside the function's sandboxes. */
  onNested?: NestedHandler;
}

/** What a pool runs on. */
export interface PoolOptions {
  /** Starts the sandboxes. */
  runner: Runner;
  /** Times scale-up, scale-down and the sandboxes. */
  clock: Clock;
  /** Counts cold starts and sandbox deaths. */
  figures?: WorkerFigures;
  /** The worker's cores and memory, which sandboxes reserve. Absent: no limit but maxContainers. */
  resources?: Resources;
  /** The worker's share of the cluster (allowances, warm duty). Absent: maxContainers alone. */
  share?: PoolShare;
}

/**
 * A backlog must persist this long before another sandbox starts: a burst that
 * the warm sandboxes clear quickly is cheaper than a sandbox's start.
 */
export const SCALE_UP_AFTER_MS = 100;

/** How `FunctionPool.run` runs one input. */
export interface PoolRun {
  /** Learns the sandbox once the input starts there (to kill it on timeout). */
  onSandbox?: (sandbox: WarmSandbox) => void;
  /** For a web input: where its response frames go. */
  web?: WebStream;
}

/**
 * What becomes of one input given to `FunctionPool.start`, told to one object (see
 * `RunEvents` in `_sandbox_run.ts`). Exactly one of `done` and `failed` is called, once.
 */
export interface PoolEvents {
  /** The input started in `sandbox` (to kill it on timeout). */
  onSandbox?(sandbox: WarmSandbox): void;
  /** Its result. */
  done(msg: DoneMessage): void;
  /** No sandbox could run it, or its sandbox died first. */
  failed(err: unknown): void;
}
