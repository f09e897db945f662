/**
 * Ephemeral apps end with their client: a client heartbeats its app
 * (`AppHeartbeat`), and an app not heard from within the timeout is stopped —
 * its queued inputs dropped, its containers stopped on every worker.
 */
import type { Clock, TimerHandle } from "../proto/clock.ts";
import type { Store } from "./store/mod.ts";
import { stopAppRecord } from "./_stop_app.ts";

/** Options for {@linkcode watchAppHeartbeats}. */
export interface AppHeartbeatOptions {
  clock: Clock;
  /** Silence after which an app stops. */
  timeoutMs: number;
  /** Called for each app stopped here (workers of this control plane drop it). */
  onStopped: (appId: string) => void;
}

/** Checks for silent apps every `timeoutMs / 5` until stopped. */
export function watchAppHeartbeats(
  all: Store,
  options: AppHeartbeatOptions,
): { stop(): void; check(): Promise<string[]> } {
  const { clock, timeoutMs } = options;
  const store = all.deployments;
  let timer: TimerHandle | undefined;
  let stopped = false;
  const check = async (): Promise<string[]> => {
    const stale = await store.staleApps(clock.now() - timeoutMs);
    for (const appId of stale) {
      await stopAppRecord(all, appId);
      await store.forgetApp(appId);
      options.onStopped(appId);
      console.error(
        `nano-modal server: stopped app ${appId}: its client was silent for ${timeoutMs / 1000} s`,
      );
    }
    return stale;
  };
  const loop = () => {
    if (stopped) return;
    timer = clock.setTimeout(async () => {
      try {
        await check();
      } catch (err) {
        console.error(`nano-modal server: app heartbeat check failed: ${(err as Error).message}`);
      }
      loop();
    }, Math.max(100, Math.floor(timeoutMs / 5)));
  };
  loop();
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
    },
    check,
  };
}
