/**
 * When `run --watch` stops a previous version of an app: once the control
 * plane has no request in flight on it (new requests already go to the next
 * version), so requests that started on it finish there, bounded by a grace
 * period so a handler that never ends cannot keep it alive.
 */
import { type Clock, systemClock } from "../proto/clock.ts";

/** Longest a previous version keeps running for its requests in flight. */
export const DRAIN_GRACE_MS = 30_000;
/** How long a name may still route to the previous version (the gateway's lookup cache, 1 s). */
const SETTLE_MS = 1_500;
const POLL_MS = 200;
/** How long to wait when the control plane cannot tell (one without the in-flight route). */
const UNKNOWN_DRAIN_MS = 10_000;

/** Requests in flight on versions no longer served; null when the control plane cannot tell. */
export type InFlightProbe = () => Promise<number | null>;

/** Timing of {@linkcode drainThenStop}; the defaults are the real ones. */
export interface DrainOptions {
  clock?: Clock;
  /** @default DRAIN_GRACE_MS */
  graceMs?: number;
  /** Stop waiting: `stop` at once (the watcher itself is stopping). */
  signal?: AbortSignal;
}

/**
 * Why a previous version stopped: its requests finished, the grace period ended, the control
 * plane could not tell (stopped after 10 s), or the watcher itself stopped.
 */
export type DrainEnd = "finished" | "grace" | "unknown" | "quit";

/** Waits until `probe` reports nothing in flight (or the grace period ends), then `stop`s. */
export async function drainThenStop(
  stop: () => Promise<void>,
  probe: InFlightProbe,
  options: DrainOptions = {},
): Promise<DrainEnd> {
  const clock = options.clock ?? systemClock;
  const graceMs = options.graceMs ?? DRAIN_GRACE_MS;
  const { signal } = options;
  let end: DrainEnd = "grace";
  const startedMs = clock.now();
  try {
    await clock.sleep(SETTLE_MS, signal);
    while (clock.now() - startedMs < graceMs && !signal?.aborted) {
      const n = await probe().catch(() => null);
      if (n === 0) end = "finished";
      else if (n === null && clock.now() - startedMs >= UNKNOWN_DRAIN_MS) end = "unknown";
      else {
        await clock.sleep(POLL_MS, signal);
        continue;
      }
      break;
    }
  } catch {
    // Aborted: stop now.
  }
  if (signal?.aborted) end = "quit";
  await stop();
  return end;
}

/** Asks the control plane at `server` how many requests are in flight on old versions of `app`. */
export function inFlightProbe(server: string, app: string, token?: string): InFlightProbe {
  return async () => {
    const res = await fetch(`${server}/_web/in-flight/${encodeURIComponent(app)}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const { elsewhere } = await res.json() as { elsewhere: number | null };
    // No version of the app serves: nothing can be in flight on the old one but its own.
    return typeof elsewhere === "number" ? elsewhere : 0;
  };
}
