/** Repeating work on an injected clock. */
import type { Clock, TimerHandle } from "../proto/clock.ts";

/**
 * Calls `fn` every `periodMs` until the returned function is called. The next
 * period starts once `fn` has settled, so slow work never overlaps itself.
 */
export function every(
  clock: Clock,
  options: { periodMs: number; fn: () => unknown },
): () => void {
  let stopped = false;
  let timer: TimerHandle | undefined;
  const arm = () => {
    if (stopped) return;
    timer = clock.setTimeout(async () => {
      timer = undefined;
      try {
        await options.fn();
      } catch {
        // The work reports its own failures; the next period tries again.
      }
      arm();
    }, options.periodMs);
  };
  arm();
  return () => {
    stopped = true;
    if (timer !== undefined) clock.clearTimeout(timer);
  };
}
