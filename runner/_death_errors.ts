/**
 * The errors the inputs of a sandbox that ended fail with: the ones running
 * get the death itself; the queued ones were never started and are not to
 * blame (they run again elsewhere).
 */
import type { SandboxExit } from "./runner.ts";
import { SandboxDiedError, type UserFault } from "./errors.ts";

/** The errors for running and queued inputs once a sandbox exits, or closes its connection (`null`). */
export function deathErrors(
  exit: SandboxExit | null,
  userFault: UserFault | undefined,
): { dead: SandboxDiedError; queued: SandboxDiedError } {
  const oom = exit?.oom ?? false;
  const how = exit
    ? exit.signal ? `was killed (${exit.signal})` : `exited with code ${exit.code}`
    : "closed its connection";
  const dead = new SandboxDiedError(
    oom ? "The sandbox ran out of memory" : `The sandbox ${how}`,
    { oom, userFault: oom ? undefined : userFault },
  );
  // The sandbox starts inputs in the order sent, `max` at a time: the first `max`
  // unfinished ones were running; the rest were queued.
  const queued = new SandboxDiedError(`The sandbox ${how} before the input started`);
  return { dead, queued };
}
