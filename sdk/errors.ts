/**
 * Errors the SDK raises. Callers catch these by class; each message says what
 * failed and what to do.
 * @module
 */

/** Base class of every nano-modal error. */
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
 * import { InvalidError } from "./errors.ts";
 * try { throw new InvalidError("bad"); } catch (e) { console.log(e instanceof InvalidError); }
 * ```
 */
export class InvalidError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidError";
  }
}

/** Something named (an app, a function, a call) does not exist. */
export class NotFoundError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NotFoundError";
  }
}

/** The control plane cannot be reached, or refused our credentials. */
export class ConnectionError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionError";
  }
}

/** The platform failed to run an input (not the function's own fault). */
export class InternalFailure extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InternalFailure";
  }
}

/** A remote function ran past its `timeoutMs`, or `FunctionCall.get` waited too long. */
export class FunctionTimeoutError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FunctionTimeoutError";
  }
}

/** The call was cancelled (`FunctionCall.cancel()`, or its app was stopped). */
export class CancelledError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CancelledError";
  }
}

/** A remote function exceeded its `memoryMiB` and was stopped. */
export class OutOfMemoryError extends NanoModalError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OutOfMemoryError";
  }
}

/**
 * A remote function threw. `remoteName`, `remoteMessage` and `remoteStack`
 * describe the original exception; `stack` shows the remote frames, which
 * point into your own source files.
 *
 * @example
 * ```ts
 * import { RemoteError } from "./errors.ts";
 * const e = new RemoteError("TypeError", "x is not a function", "TypeError: x is not a function");
 * console.log(e.remoteName); // "TypeError"
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
   * Creates the error.
   * @param remoteName name of the remote exception
   * @param remoteMessage its message
   * @param remoteStack its stack trace
   */
  constructor(
    remoteName: string,
    remoteMessage: string,
    remoteStack: string,
    options?: ErrorOptions,
  ) {
    super(`${remoteName}: ${remoteMessage}`, options);
    this.name = "RemoteError";
    this.remoteName = remoteName;
    this.remoteMessage = remoteMessage;
    this.remoteStack = remoteStack;
    const frames = remoteStack.split("\n").filter((l) => /^\s+at /.test(l));
    this.stack = `RemoteError: ${remoteName}: ${remoteMessage}\n${frames.join("\n")}`;
  }
}
