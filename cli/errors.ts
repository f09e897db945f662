/** CLI errors and how they reach the user: one line, no stack from our code. */

/** A mistake in how the CLI was invoked; the message says what to do. */
export class UsageError extends Error {
  /** Creates the error; `message` says what was wrong and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const red = (s: string) => Deno.stderr.isTerminal() ? `\x1b[31m${s}\x1b[0m` : s;

/** Prints an error for a user and returns the exit code to use. */
export function report(err: unknown): number {
  const e = err as Error;
  if (e?.name === "RemoteError") {
    // The stack is the user's own code, which is exactly what they need.
    console.error(`${red("error:")} ${e.stack ?? e.message}`);
  } else if (e instanceof Deno.errors.PermissionDenied) {
    console.error(`${red("error:")} ${e.message}: run nano-modal with -A (all permissions)`);
  } else {
    console.error(`${red("error:")} ${e?.message ?? String(err)}`);
  }
  return 1;
}
