/**
 * The deadline a sandbox has to start: connect, then load its bundle. Used by
 * the warm sandbox while it waits for the sandbox's first messages.
 */
import type { Clock, TimerHandle } from "../proto/clock.ts";
import type { SandboxExit } from "./runner.ts";
import { SandboxDiedError } from "./errors.ts";

/** How long a sandbox may take to connect, and then to load its bundle. */
export const START_TIMEOUT_MS = 120_000;

/** Settles with `work`, or rejects once the sandbox exits or {@linkcode START_TIMEOUT_MS} pass. */
export async function race<T>(
  work: Promise<T>,
  during: { exited: Promise<SandboxExit>; phase: string; clock: Clock },
): Promise<T> {
  const { exited, phase, clock } = during;
  let timer: TimerHandle | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => {
      const message = `The sandbox did not ${phase} within ${START_TIMEOUT_MS / 1000} s`;
      reject(new SandboxDiedError(message));
    }, START_TIMEOUT_MS);
  });
  const died = exited.then((exit): never => {
    throw new SandboxDiedError(
      exit.oom
        ? "The sandbox ran out of memory while starting"
        : `The sandbox ended while starting (exit code ${exit.code ?? exit.signal})`,
      { oom: exit.oom },
    );
  });
  try {
    return await Promise.race([work, died, timeout]);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}
