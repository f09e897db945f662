/**
 * Errors the SDK throws into user code carry a stack that starts at the
 * user's own call, not in the SDK's internals: Deno's print of an uncaught
 * error is then one message and a few of the user's frames.
 */
import { RemoteError } from "./errors.ts";

/**
 * Where the user called an SDK method. V8 formats the frames only when
 * `stack` is read, so a call that succeeds never pays for the text (it was
 * ~60 µs of a warm `.remote()`, source maps applied).
 */
export interface CallSite {
  readonly stack: string;
}

/** The stack frames above `fn`: where the user called it. Capture before any await. */
export function callSite(fn: (...args: never[]) => unknown): CallSite {
  const holder = { stack: "" };
  Error.captureStackTrace(holder, fn);
  return holder;
}

/** Gives `err` the user's call site as its stack (a remote error keeps its own). */
export function atCallSite(err: unknown, at: CallSite): unknown {
  if (err instanceof Error && !(err instanceof RemoteError)) {
    const site = at.stack.split("\n").slice(1).join("\n");
    if (!site) return err;
    Object.defineProperty(err, "stack", {
      value: `${err.name}: ${err.message}\n${site}`,
      writable: true,
      configurable: true,
    });
    // The wire error it came from says the same with our transport's frames: leave it out.
    if ((err.cause as Error | undefined)?.name === "ConnectError") delete err.cause;
  }
  return err;
}
