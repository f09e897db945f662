/**
 * Running one input to its final output: attempts in a warm sandbox, the
 * function's timeout, user retries with backoff, and what each way of failing
 * tells the caller.
 */
import { create } from "../proto/deps.ts";
import type { Clock } from "../proto/clock.ts";
import { type FunctionDef, type Output, OutputSchema, ResultStatus } from "../proto/messages.ts";
import type { Deadlines } from "./_deadlines.ts";
import type { FunctionInfo } from "./_functions.ts";
import type { WarmSandbox } from "./_warm_sandbox.ts";
import type { FunctionPool, PoolEvents } from "./_pool.ts";
import { type DoneMessage, MAX_RESULT_BYTES } from "./_protocol.ts";
import {
  CapacityError,
  ImageBuildError,
  SandboxDiedError,
  SandboxInitError,
  SandboxStartError,
} from "./errors.ts";
import { runWebInput } from "./_web_forward.ts";
import { instanceKey } from "./_class_instance.ts";

const NO_BYTES = new Uint8Array(0);

/** What an input came to: its output, or "run it again elsewhere". */
export type Outcome = Output | "requeue";

/** What went wrong, as the caller will see it. */
interface FailureDescription {
  name: string;
  message: string;
  stack?: string;
}

/** An output that reports a failure. */
export function failure(idx: number, status: ResultStatus, error: FailureDescription): Output {
  return create(OutputSchema, { idx, status, error: { stack: "", ...error } });
}

/** The output for a function that could not be loaded (bundle, image, definition). */
export function loadFailure(idx: number, err: unknown): Output {
  if (err instanceof ImageBuildError) {
    return failure(idx, ResultStatus.FAILURE, { name: err.name, message: err.message });
  }
  if (err instanceof CapacityError) {
    // The caller fixes the definition: the SDK raises it as an InvalidError.
    return failure(idx, ResultStatus.FAILURE, { name: err.name, message: err.message });
  }
  const message = `Cannot load the function: ${(err as Error).message}`;
  return failure(idx, ResultStatus.INTERNAL_FAILURE, { name: "InternalFailure", message });
}

/** One input, as {@linkcode execute} needs it. */
export interface ExecuteInput {
  inputId: string;
  idx: number;
  args: Uint8Array;
}

/** What {@linkcode execute} runs on. */
export interface ExecuteOptions {
  /** Times each attempt against the function's `timeoutMs`. */
  deadlines: Deadlines;
  /** Waits out the backoff between user retries. */
  clock: Clock;
  /** Aborts when the worker stops: no retry starts after that. */
  signal: AbortSignal;
  /** Told before each user retry, with a line for the caller (`retrying f (attempt 2/3) after ...`). */
  onRetry?: (line: string) => void;
}

/** The line a caller sees before a retry: what is retried, which attempt, after what. */
export function retryLine(fnName: string, next: number, total: number, outcome: Output): string {
  const why = outcome.status === ResultStatus.TIMEOUT
    ? "a timeout"
    : `${outcome.error?.name || "Error"}: ${(outcome.error?.message ?? "").split("\n")[0]}`;
  return `retrying ${fnName} (attempt ${next}/${total}) after ${why}`;
}

/**
 * Runs an input with the function's retry policy: exceptions and timeouts are
 * retried with backoff; a lost sandbox is left to the infrastructure retries.
 */
export async function execute(
  fn: FunctionInfo,
  input: ExecuteInput,
  options: ExecuteOptions,
): Promise<Outcome> {
  if (fn.def.web) return runWebInput(fn, input, options.deadlines);
  const policy = fn.def.retries;
  for (let attempt = 0;; attempt++) {
    const outcome = await runOnce(fn, input, options.deadlines);
    if (outcome === "requeue") return outcome;
    const retryable = outcome.status === ResultStatus.FAILURE ||
      outcome.status === ResultStatus.TIMEOUT;
    if (!retryable || !policy || attempt >= policy.maxRetries) return outcome;
    const delayMs = Math.min(
      policy.initialDelayMs * policy.backoffCoefficient ** attempt,
      policy.maxDelayMs,
    );
    options.onRetry?.(retryLine(fn.def.name, attempt + 2, policy.maxRetries + 1, outcome));
    try {
      await options.clock.sleep(delayMs, options.signal);
    } catch {
      return outcome; // The worker stopped during the backoff.
    }
  }
}

/** One attempt at an input, with the function's timeout; no retries. */
export function runOnce(
  fn: FunctionInfo,
  input: ExecuteInput,
  deadlines: Deadlines,
): Promise<Outcome> {
  return new Promise((resolve) => attempt(fn, input, deadlines, resolve));
}

/**
 * {@linkcode runOnce} without a promise: `finish` gets the outcome. What a worker runs each
 * input of a function without retries through (most inputs, a map's by the thousand).
 */
export function attempt(
  fn: FunctionInfo,
  input: ExecuteInput,
  deadlines: Deadlines,
  finish: (outcome: Outcome) => void,
): void {
  let run: Attempt | undefined;
  try {
    // Each instance of a class (one per constructor argument list) has its own containers.
    const pool = fn.def.cls ? fn.pool.instance(instanceKey(input.args)) : fn.pool;
    run = new Attempt(fn.def, input, deadlines, pool, finish);
    pool.start(input.inputId, input.args, run);
  } catch (err) {
    // As a rejection of runOnce was: the input fails, the worker goes on.
    if (run) run.failed(err);
    else finish(failureOf(err, { def: fn.def, idx: input.idx }));
  }
}

/** One attempt of one input in a pool: its timeout, and its result or failure as an outcome. */
class Attempt implements PoolEvents {
  readonly #def: FunctionDef;
  readonly #input: ExecuteInput;
  readonly #deadlines: Deadlines;
  readonly #pool: FunctionPool;
  readonly #finish: (outcome: Outcome) => void;
  #timedOut = false;
  #ended = false;

  constructor(
    def: FunctionDef,
    input: ExecuteInput,
    deadlines: Deadlines,
    pool: FunctionPool,
    finish: (outcome: Outcome) => void,
  ) {
    this.#def = def;
    this.#input = input;
    this.#deadlines = deadlines;
    this.#pool = pool;
    this.#finish = finish;
  }

  onSandbox(sandbox: WarmSandbox): void {
    // The clock starts once a sandbox has the input: start-up is not the function's time.
    this.#deadlines.set(this.#input.inputId, this.#def.timeoutMs, () => {
      this.#timedOut = true;
      this.#pool.kill(sandbox);
    });
  }

  done(done: DoneMessage): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#deadlines.clear(this.#input.inputId);
    this.#finish(outcomeOf(done, this.#def, this.#input.idx));
  }

  failed(err: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#deadlines.clear(this.#input.inputId);
    const def = this.#def, idx = this.#input.idx;
    if (!this.#timedOut) return this.#finish(failureOf(err, { def, idx }));
    this.#finish(failure(idx, ResultStatus.TIMEOUT, {
      name: "FunctionTimeoutError",
      message:
        `${def.name} timed out after ${def.timeoutMs} ms: raise timeoutMs in app.function({ timeoutMs }) if it needs longer`,
    }));
  }
}

/** The output a sandbox's result makes. */
function outcomeOf(done: DoneMessage, def: FunctionDef, idx: number): Output {
  if (done.ok && (done.payload?.byteLength ?? 0) > MAX_RESULT_BYTES) {
    // The entrypoint checks this; a sandbox that does not must not wedge the wire.
    return failure(idx, ResultStatus.FAILURE, {
      name: "ResultTooLargeError",
      message: `${def.name} returned ${
        done.payload!.byteLength
      } bytes, over the ${MAX_RESULT_BYTES} byte limit for one result: return less, or write it to a Volume`,
    });
  }
  if (done.ok) {
    // Every field given (`error` is absent on success): what create() would make, without
    // its pass over the schema, for each of a map's inputs.
    return {
      $typeName: "nanomodal.v1.Output",
      idx,
      status: ResultStatus.SUCCESS,
      payload: done.payload ?? NO_BYTES,
      durationMs: done.ms,
    };
  }
  const e = done.error!;
  return create(OutputSchema, {
    idx,
    status: ResultStatus.FAILURE,
    error: { name: e.name, message: e.message, stack: e.stack, value: e.value },
    durationMs: done.ms,
  });
}

/** What a sandbox error means for the input. */
export function failureOf(err: unknown, where: { def: FunctionDef; idx: number }): Outcome {
  const { def: { name, memoryMib }, idx } = where;
  if (err instanceof SandboxDiedError && err.oom) {
    return failure(idx, ResultStatus.FAILURE, {
      name: "OutOfMemoryError",
      message:
        `${name} ran out of memory (limit ${memoryMib} MiB): raise memoryMiB in app.function({ memoryMiB })`,
    });
  }
  if (err instanceof SandboxInitError) {
    const message = `Loading the app failed: ${err.message}`;
    return failure(idx, ResultStatus.FAILURE, {
      name: err.remoteName,
      message,
      stack: err.remoteStack,
    });
  }
  if (err instanceof SandboxDiedError && err.userFault) {
    return failure(idx, ResultStatus.FAILURE, err.userFault);
  }
  if (err instanceof SandboxStartError) {
    const message = `The sandbox for ${name} could not start: ${err.message}`;
    return failure(idx, ResultStatus.INTERNAL_FAILURE, { name: "InternalFailure", message });
  }
  if (err instanceof SandboxDiedError) return "requeue";
  const message = (err as Error).message;
  return failure(idx, ResultStatus.INTERNAL_FAILURE, { name: "InternalFailure", message });
}
