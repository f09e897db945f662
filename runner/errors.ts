/** Errors of the runner. */

/** What user code said as it ended its sandbox (`Deno.exit`, an uncaught error). */
export interface UserFault {
  name: string;
  message: string;
  stack: string;
}

/** The sandbox ended while inputs were running in it. */
export class SandboxDiedError extends Error {
  /** It was killed for exceeding its memory limit. */
  readonly oom: boolean;
  /**
   * Set when the function's own code ended the sandbox: its inputs fail with
   * this (counted against the user's retries), not as lost infrastructure.
   */
  readonly userFault?: UserFault;
  /** `options.oom`: killed for its memory; `options.userFault`: the function's own code ended it. */
  constructor(message: string, options: { oom?: boolean; userFault?: UserFault } = {}) {
    super(message);
    this.name = "SandboxDiedError";
    this.oom = options.oom ?? false;
    this.userFault = options.userFault;
  }
}

/**
 * A sandbox died before it was ready (before the user's code ran). It would
 * most likely die the same way elsewhere, so the input fails with what the
 * sandbox printed instead of being retried.
 */
export class SandboxStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SandboxStartError";
  }
}

/** Loading the user's bundle failed (an exception at module top level, say). */
export class SandboxInitError extends Error {
  readonly remoteName: string;
  readonly remoteStack: string;
  /** `remote` is the error as the sandbox reported it (its class name and stack). */
  constructor(message: string, remote: { name: string; stack: string }) {
    super(message);
    this.name = "SandboxInitError";
    this.remoteName = remote.name;
    this.remoteStack = remote.stack;
  }
}

/** Building a function's image failed; the message names the failing step. */
export class ImageBuildError extends Error {
  /** An error whose message names the failing build step. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ImageBuildError";
  }
}

/**
 * A worker cannot honour a function's options: more CPU or memory than its
 * host has, or an image or volumes its runner cannot give. The caller sees an
 * `InvalidError` naming the function and the option.
 */
export class CapacityError extends Error {
  /** An error whose message names the function and the option. */
  constructor(message: string) {
    super(message);
    this.name = "CapacityError";
  }
}
