/**
 * Running one input to its final output: attempts in a warm sandbox, the
 * function's timeout, user retries with backoff, and what each way of failing
 * tells the caller.
 */
import { create } from "../proto/mod.ts";
import { type Output, OutputSchema, ResultStatus } from "../proto/messages.ts";
import type { FunctionInfo } from "./_functions.ts";
import type { WarmSandbox } from "./_warm_sandbox.ts";
import {
  ImageBuildError,
  SandboxDiedError,
  SandboxInitError,
  SandboxStartError,
} from "./errors.ts";
import { runWebInput } from "./_web_forward.ts";
import { instanceKey } from "./_class_instance.ts";

/** How often running attempts are checked against their timeouts. */
const TIMEOUT_CHECK_MS = 25;

/** Running attempts and when each times out, checked by one timer for all. */
export class Deadlines {
  readonly #entries = new Map<string, { atMs: number; expire: () => void }>();
  #timer?: ReturnType<typeof setInterval>;

  /** Starts checking. */
  start(): void {
    this.#timer ??= setInterval(() => this.#check(), TIMEOUT_CHECK_MS);
  }

  /** Stops checking. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Calls `expire` once `timeoutMs` have passed, unless cleared first. */
  set(id: string, timeoutMs: number, expire: () => void): void {
    this.#entries.set(id, { atMs: performance.now() + timeoutMs, expire });
  }

  /** Forgets an attempt that ended. */
  clear(id: string): void {
    this.#entries.delete(id);
  }

  #check(): void {
    const now = performance.now();
    for (const [id, entry] of this.#entries) {
      if (entry.atMs > now) continue;
      this.#entries.delete(id);
      entry.expire();
    }
  }
}

/** What an input came to: its output, or "run it again elsewhere". */
export type Outcome = Output | "requeue";

/** An output that reports a failure. */
export function failure(
  idx: number,
  status: ResultStatus,
  name: string,
  message: string,
  stack = "",
): Output {
  return create(OutputSchema, { idx, status, error: { name, message, stack } });
}

/** The output for a function that could not be loaded (bundle, image, definition). */
export function loadFailure(idx: number, err: unknown): Output {
  if (err instanceof ImageBuildError) {
    return failure(idx, ResultStatus.FAILURE, err.name, err.message);
  }
  const message = `Cannot load the function: ${(err as Error).message}`;
  return failure(idx, ResultStatus.INTERNAL_FAILURE, "InternalFailure", message);
}

/**
 * Runs an input with the function's retry policy: exceptions and timeouts are
 * retried with backoff; a lost sandbox is left to the infrastructure retries.
 */
export async function execute(
  fn: FunctionInfo,
  input: { inputId: string; idx: number; args: Uint8Array },
  deadlines: Deadlines,
  signal: AbortSignal,
): Promise<Outcome> {
  if (fn.def.web) return runWebInput(fn, input, deadlines);
  const policy = fn.def.retries;
  for (let attempt = 0;; attempt++) {
    const outcome = await runOnce(fn, input, deadlines);
    if (outcome === "requeue") return outcome;
    const retryable = outcome.status === ResultStatus.FAILURE ||
      outcome.status === ResultStatus.TIMEOUT;
    if (!retryable || !policy || attempt >= policy.maxRetries || signal.aborted) return outcome;
    const delayMs = Math.min(
      policy.initialDelayMs * policy.backoffCoefficient ** attempt,
      policy.maxDelayMs,
    );
    await delay(delayMs, signal);
  }
}

async function runOnce(
  fn: FunctionInfo,
  input: { inputId: string; idx: number; args: Uint8Array },
  deadlines: Deadlines,
): Promise<Outcome> {
  const def = fn.def;
  let timedOut = false;
  // Each instance of a class (one per constructor argument list) has its own containers.
  const pool = def.cls ? fn.pool.instance(instanceKey(input.args)) : fn.pool;
  try {
    const done = await pool.run(input.inputId, input.args, (sandbox: WarmSandbox) => {
      // The clock starts once a sandbox has the input: start-up is not the function's time.
      deadlines.set(input.inputId, def.timeoutMs, () => {
        timedOut = true;
        pool.kill(sandbox);
      });
    });
    if (done.ok) {
      return create(OutputSchema, {
        idx: input.idx,
        status: ResultStatus.SUCCESS,
        payload: done.payload,
        durationMs: done.ms,
      });
    }
    const e = done.error!;
    return create(OutputSchema, {
      idx: input.idx,
      status: ResultStatus.FAILURE,
      error: { name: e.name, message: e.message, stack: e.stack, value: e.value },
      durationMs: done.ms,
    });
  } catch (err) {
    if (timedOut) {
      return failure(
        input.idx,
        ResultStatus.TIMEOUT,
        "FunctionTimeoutError",
        `${def.name} timed out after ${def.timeoutMs} ms: raise timeoutMs in app.function({ timeoutMs }) if it needs longer`,
      );
    }
    return failureOf(err, def.name, def.memoryMib, input.idx);
  } finally {
    deadlines.clear(input.inputId);
  }
}

/** What a sandbox error means for the input. */
export function failureOf(err: unknown, name: string, memoryMib: number, idx: number): Outcome {
  if (err instanceof SandboxDiedError && err.oom) {
    return failure(
      idx,
      ResultStatus.FAILURE,
      "OutOfMemoryError",
      `${name} ran out of memory (limit ${memoryMib} MiB): raise memoryMiB in app.function({ memoryMiB })`,
    );
  }
  if (err instanceof SandboxInitError) {
    const message = `Loading the app failed: ${err.message}`;
    return failure(idx, ResultStatus.FAILURE, err.remoteName, message, err.remoteStack);
  }
  if (err instanceof SandboxStartError) {
    const message = `The sandbox for ${name} could not start: ${err.message}`;
    return failure(idx, ResultStatus.INTERNAL_FAILURE, "InternalFailure", message);
  }
  if (err instanceof SandboxDiedError) return "requeue";
  return failure(idx, ResultStatus.INTERNAL_FAILURE, "InternalFailure", (err as Error).message);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
