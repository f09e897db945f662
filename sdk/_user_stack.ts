/**
 * Errors the SDK throws into user code carry a stack that starts at the
 * user's own call, not in the SDK's internals: Deno's print of an uncaught
 * error is then one message and a few of the user's frames.
 */
import { RemoteError } from "./errors.ts";

/** The stack frames above `fn`: where the user called it. Capture before any await. */
export function callSite(fn: (...args: never[]) => unknown): string {
  const holder = { stack: "" };
  Error.captureStackTrace(holder, fn);
  return holder.stack.split("\n").slice(1).join("\n");
}

/** Gives `err` the user's call site as its stack (a remote error keeps its own). */
export function atCallSite(err: unknown, site: string): unknown {
  if (err instanceof Error && !(err instanceof RemoteError) && site) {
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
