/**
 * Errors the SDK raises. Callers catch these by class; each message says what
 * failed and what to do.
 *
 * One error style: every error the SDK raises is a {@linkcode NanoModalError}.
 * A bad argument or definition (an unknown option, a value out of range, an
 * argument that cannot be sent) is an {@linkcode InvalidError}, never a bare
 * `TypeError` or `RangeError`, so `catch (e) { if (e instanceof NanoModalError) ... }`
 * catches everything the SDK means, and the CLI prints it as one line. Errors
 * thrown by your own functions arrive as {@linkcode RemoteError}, whatever
 * their class was remotely.
 * @module
 */

/**
 * Base class of every nano-modal error.
 *
 * @example
 * ```ts
 * import { App, NanoModalError } from "@nano/modal";
 * try {
 *   new App("not a valid name!");
 * } catch (e) {
 *   console.log(e instanceof NanoModalError); // true
 * }
 * ```
 */
export class NanoModalError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NanoModalError";
  }
}

/**
 * A definition or argument is invalid (unknown option, bad value, missing
 * app). Fix the code; retrying will not help.
 *
 * @example
 * ```ts
 * import { App, InvalidError } from "@nano/modal";
 * const app = new App("demo");
 * try {
 *   app.function({ timeoutMs: -1 }, function f() {});
 * } catch (e) {
 *   console.log(e instanceof InvalidError); // true: fix the code, retrying will not help
 * }
 * ```
 */
export class InvalidError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidError";
  }
}

/**
 * Something named (an app, a function, a call) does not exist.
 *
 * @example
 * ```ts
 * import { FunctionCall, NotFoundError } from "@nano/modal";
 * async function resultOrNull(id: string): Promise<unknown> {
 *   try {
 *     return await FunctionCall.fromId(id).get();
 *   } catch (e) {
 *     if (e instanceof NotFoundError) return null; // no such call
 *     throw e;
 *   }
 * }
 * ```
 */
export class NotFoundError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NotFoundError";
  }
}

/**
 * The control plane cannot be reached, or refused our credentials.
 *
 * @example
 * ```ts
 * import { ConnectionError, RemoteFunction } from "@nano/modal";
 * async function tryRemote(fn: RemoteFunction<[number], number>): Promise<number | undefined> {
 *   try {
 *     return await fn.remote(1);
 *   } catch (e) {
 *     if (e instanceof ConnectionError) console.error(e.message); // says what to check
 *     return undefined;
 *   }
 * }
 * ```
 */
export class ConnectionError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionError";
  }
}

/**
 * The platform failed to run an input (not the function's own fault).
 *
 * @example
 * ```ts
 * import { InternalFailure, RemoteFunction } from "@nano/modal";
 * async function withOneMoreTry(fn: RemoteFunction<[], string>): Promise<string> {
 *   try {
 *     return await fn.remote();
 *   } catch (e) {
 *     if (e instanceof InternalFailure) return await fn.remote(); // infrastructure, not your code
 *     throw e;
 *   }
 * }
 * ```
 */
export class InternalFailure extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InternalFailure";
  }
}

/**
 * A remote function ran past its `timeoutMs`, or `FunctionCall.get` waited too long.
 *
 * @example
 * ```ts
 * import { FunctionCall, FunctionTimeoutError } from "@nano/modal";
 * async function poll(call: FunctionCall<number>): Promise<number | "pending"> {
 *   try {
 *     return await call.get({ timeoutMs: 1_000 });
 *   } catch (e) {
 *     if (e instanceof FunctionTimeoutError) return "pending";
 *     throw e;
 *   }
 * }
 * ```
 */
export class FunctionTimeoutError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FunctionTimeoutError";
  }
}

/**
 * The call was cancelled (`FunctionCall.cancel()`, or its app was stopped).
 *
 * @example
 * ```ts
 * import { CancelledError, FunctionCall } from "@nano/modal";
 * try {
 *   await FunctionCall.fromId("fc-0123456789ab").get({ timeoutMs: 0 });
 * } catch (e) {
 *   if (e instanceof CancelledError) console.log("it was cancelled");
 * }
 * ```
 */
export class CancelledError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CancelledError";
  }
}

/**
 * A remote function exceeded its `memoryMiB` and was stopped.
 *
 * @example
 * ```ts
 * import { App, OutOfMemoryError } from "@nano/modal";
 * const app = new App("demo");
 * const big = app.function({ memoryMiB: 128 }, function big(n: number) {
 *   return new Uint8Array(n).length;
 * });
 * app.localEntrypoint(async () => {
 *   try {
 *     await big.remote(1e9);
 *   } catch (e) {
 *     if (e instanceof OutOfMemoryError) console.log("raise memoryMiB");
 *   }
 * });
 * ```
 */
export class OutOfMemoryError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OutOfMemoryError";
  }
}

/** A remote function's result (or error) was over the size one result may have. */
export class ResultTooLargeError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ResultTooLargeError";
  }
}

/**
 * A function's image could not be built; the message names the failing step
 * and quotes its last output. Fix the image definition; retrying will not help.
 *
 * @example
 * ```ts
 * import { ImageBuildError } from "@nano/modal";
 * const e = new ImageBuildError("apt-get install nope failed");
 * console.log(e instanceof ImageBuildError); // true
 * ```
 */
export class ImageBuildError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ImageBuildError";
  }
}

/** What a {@linkcode RemoteError} describes: the exception the remote function threw. */
export interface RemoteErrorInit {
  /** The remote exception's class name, e.g. `"TypeError"`. */
  name: string;
  /** Its message. */
  message: string;
  /** Its stack trace (frames point into your source files). @default "" */
  stack?: string;
}

/**
 * A remote function threw. `remoteName`, `remoteMessage` and `remoteStack`
 * describe the original exception; `stack` shows the remote frames, which
 * point into your own source files. `cause` is the remote exception's own
 * `cause` (an `Error` keeps its class and its own `cause`, so the whole chain
 * arrives), and `stack` ends with one `Caused by:` line per link.
 *
 * @example
 * ```ts
 * import { RemoteError } from "@nano/modal";
 * const e = new RemoteError({ name: "TypeError", message: "x is not a function" });
 * console.log(e.remoteName, e.message); // "TypeError" "TypeError: x is not a function"
 * ```
 */
export class RemoteError extends NanoModalError {
  /** Name of the remote exception, e.g. `"TypeError"`. */
  readonly remoteName: string;
  /** Message of the remote exception. */
  readonly remoteMessage: string;
  /** Stack of the remote exception, with frames in your source files. */
  readonly remoteStack: string;

  /**
   * Creates the error from a description of the remote exception.
   * @param remote its `name`, `message` and `stack` (`stack` defaults to none)
   */
  constructor(remote: RemoteErrorInit, options?: ErrorOptions) {
    const { name: remoteName, message: remoteMessage, stack: remoteStack = "" } = remote;
    super(`${remoteName}: ${remoteMessage}`, options);
    this.name = "RemoteError";
    this.remoteName = remoteName;
    this.remoteMessage = remoteMessage;
    this.remoteStack = remoteStack;
    const frames = remoteStack.split("\n").filter((l) => /^\s+at /.test(l));
    this.stack = `RemoteError: ${remoteName}: ${remoteMessage}\n${frames.join("\n")}` +
      causeLines(options?.cause);
  }
}

/** One `Caused by:` line per link of a cause chain (at most 8, cycles stop it). */
function causeLines(cause: unknown): string {
  let out = "";
  const seen = new Set<unknown>();
  for (let c = cause, n = 0; c !== undefined && c !== null && n < 8 && !seen.has(c); n++) {
    seen.add(c);
    const text = c instanceof Error ? `${c.name}: ${c.message}` : String(c);
    out += `\nCaused by: ${text}`;
    c = c instanceof Error ? c.cause : undefined;
  }
  return out;
}
