/** What a `Worker` is told: its server, runner, capacity, cache and clock. */
import type { Transport } from "../proto/deps.ts";
import type { Clock } from "../proto/clock.ts";
import type { Runner } from "./runner.ts";
import type { EventLog } from "../proto/event_log.ts";
import type { Capacity } from "./_resources.ts";

/** Options for {@linkcode Worker}. */
export interface WorkerOptions {
  /** The control plane to serve, as `http://host:port`. */
  serverUrl: string;
  /**
   * Reach the server through this Connect transport instead of `serverUrl`:
   * a control plane in the same process (`cli/`'s embedded mode) hands its
   * in-process transport here. Wiring between `cli/` and `runner/`, left out
   * of the generated docs because its type is Connect's.
   * @ignore
   */
  transport?: Transport;
  /** The server's token (`NANO_MODAL_TOKEN`), if it requires one. */
  token?: string;
  /** How sandboxes run: a {@linkcode DenoRunner} or a {@linkcode DockerRunner}. */
  runner: Runner;
  /** Inputs this worker holds at once (running or waiting for a sandbox). @default 32 */
  capacity?: number;
  /**
   * Cores and memory this worker's sandboxes may reserve: each sandbox takes its function's
   * `cpu` and `memoryMiB`, and another starts only when it fits (a function's first sandbox
   * always starts; one waiting on nested calls gives its share back while it waits). What is
   * left out is this machine's (`detectCapacity()`); `false` reserves nothing, and only
   * `maxContainers` bounds the sandboxes. @default this machine's cores and memory
   */
  resources?: Partial<Capacity> | false;
  /** Where bundles, the entrypoint and sandbox sockets live. */
  cacheDir: string;
  /**
   * Keep a sandbox process ready for the next new app's first sandbox, where
   * the runner can (the deno runner: one idle process, ~40 MB): the CLI's
   * long-running workers do. @default false
   */
  spare?: boolean;
  /** The id the control plane lists this worker by. @default wk-HOST-PID-RANDOM */
  workerId?: string;
  /** Where the worker reports its own state. @default console.error */
  log?: (line: string) => void;
  /**
   * Where the worker announces events: connected, containers started and
   * stopped, images built. @default silent
   */
  events?: EventLog;
  /**
   * Time for heartbeats, timeouts, retry backoff, reconnection and scale-down.
   * @default systemClock
   */
  clock?: Clock;
}
