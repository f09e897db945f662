/**
 * A handle on a spawned call, which any process can reattach to by id.
 * @module
 */
import { FunctionTimeoutError, InvalidError } from "./errors.ts";
import { outputValue } from "./_output.ts";
import { currentSession } from "./_connect.ts";
import { atCallSite, callSite } from "./_user_stack.ts";

/**
 * Options for {@linkcode FunctionCall.get}.
 *
 * @example
 * ```ts
 * import { FunctionCall, type GetOptions } from "@nano/modal";
 * const options: GetOptions = { timeoutMs: 5_000 };
 * async function result(id: string): Promise<number> {
 *   return await FunctionCall.fromId<number>(id).get(options);
 * }
 * ```
 */
export interface GetOptions {
  /** How long to wait for the result; waits indefinitely when omitted. */
  timeoutMs?: number;
}

/**
 * A call started with `fn.spawn(...)`.
 *
 * @example
 * ```ts
 * import { FunctionCall } from "@nano/modal";
 * const call = FunctionCall.fromId<number>("fc-123");
 * console.log(call.id); // "fc-123"
 * ```
 */
export class FunctionCall<T = unknown> {
  /** The call id; pass it to {@linkcode FunctionCall.fromId} elsewhere. */
  readonly id: string;
  readonly #label: string;

  /** Prefer `fn.spawn()` or {@linkcode FunctionCall.fromId}. */
  constructor(id: string, label = "function call") {
    this.id = id;
    this.#label = label;
  }

  /**
   * Reattaches to a call by id. Lazy and synchronous: nothing is checked
   * until {@linkcode FunctionCall.get}.
   */
  static fromId<T = unknown>(id: string): FunctionCall<T> {
    if (typeof id !== "string" || !id) {
      throw new InvalidError("FunctionCall.fromId needs the id of a spawned call");
    }
    return new FunctionCall<T>(id);
  }

  /**
   * Waits for the result.
   * @throws {FunctionTimeoutError} when `timeoutMs` passes first
   * @throws {RemoteError} when the function threw
   * @throws {CancelledError} when the call was cancelled
   */
  async get(options: GetOptions = {}): Promise<T> {
    const site = callSite(this.get);
    try {
      return await this.#get(options);
    } catch (err) {
      throw atCallSite(err, site);
    }
  }

  /**
   * Cancels the call: if it is still queued it never runs; if it is running,
   * its input is stopped. A later {@linkcode FunctionCall.get} throws
   * `CancelledError`. Cancelling a finished call changes nothing.
   */
  async cancel(): Promise<void> {
    const site = callSite(this.cancel);
    try {
      const session = await currentSession("FunctionCall.cancel()");
      await session.cancel(this.id);
    } catch (err) {
      throw atCallSite(err, site);
    }
  }

  async #get(options: GetOptions): Promise<T> {
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
      throw new InvalidError(
        `get({ timeoutMs }) must be a number of milliseconds ≥ 0, got ${timeoutMs}`,
      );
    }
    const session = await currentSession("FunctionCall.get()");
    const output = await session.awaitCall(this.id, timeoutMs);
    if (!output) {
      throw new FunctionTimeoutError(
        `${this.#label} ${this.id} did not finish within ${timeoutMs} ms`,
      );
    }
    return outputValue(output, this.#label) as T;
  }
}
