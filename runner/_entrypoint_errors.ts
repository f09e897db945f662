/**
 * How the in-sandbox entrypoint describes what user code threw, and the
 * error for a result too large to send.
 */
import { type ErrorDescription, MAX_RESULT_BYTES } from "./_protocol.ts";
import { describe as describeValue } from "./_describe.ts";

export function describeError(err: unknown, selfUrl: string): ErrorDescription {
  const userFrames = (stack: string) => ownFramesDropped(stack, selfUrl);
  // A nested call's error passes through as the original one, not wrapped once per level.
  const remote = err as { name?: string; remoteName?: string; remoteMessage?: string };
  try {
    if (remote?.name === "RemoteError" && typeof remote.remoteName === "string") {
      const d = describeValue(err, userFrames);
      return { ...d, name: remote.remoteName, message: remote.remoteMessage ?? d.message };
    }
  } catch {
    // A hostile value: described below like any other.
  }
  return describeValue(err, userFrames);
}

const MIB = 1024 * 1024;

/** The error for a result over {@linkcode MAX_RESULT_BYTES}. */
export function resultTooLarge(fnName: string, bytes: number): ErrorDescription {
  const size = (n: number) => `${(n / MIB).toFixed(n % MIB ? 1 : 0)} MiB`;
  return {
    name: "ResultTooLargeError",
    message: `${fnName} returned ${size(bytes)}, over the ${
      size(MAX_RESULT_BYTES)
    } limit for one result: return less (split the work with .map()), or write it to a Volume and return its path`,
    stack: "",
  };
}
/**
 * Drops the entrypoint's own frames and the Deno runtime's (`ext:`): the
 * caller wants to see only their code.
 */
function ownFramesDropped(stack: string, self: string): string {
  return stack.split("\n")
    .filter((line) => !line.includes(self) && !/^\s+at (?:.*\()?ext:/.test(line))
    .join("\n");
}
