/**
 * Who keeps a function's `minContainers` warm: exactly one live worker per
 * function, chosen without asking anyone. A worker takes a duty when no live
 * worker holds it and it ranks first for that function among the live workers
 * (rendezvous hashing: every control plane that looks at the same workers
 * picks the same one). The holder keeps it while it lives; when it leaves
 * (drained, died, silent past {@linkcode WARM_HOLDER_STALE_MS}), the next in
 * rank takes it at its next heartbeat.
 */
import type { GetFunctionResponse } from "../proto/messages.ts";
import type { Store, WorkerRecord } from "./store/mod.ts";
import type { AppState } from "./_worker_hub.ts";

/** A holder silent this long (three missed heartbeats) has left: its duties go to others. */
export const WARM_HOLDER_STALE_MS = 15_000;

/** The functions of live, current apps that have `minContainers`. */
export async function loadWarmCandidates(store: Store, options: {
  describe: (functionId: string) => Promise<GetFunctionResponse | undefined>;
  appState?: (appId: string) => Promise<AppState>;
}): Promise<Set<string>> {
  const out = new Set<string>();
  for (const app of await store.apps.listApps({ live: true })) {
    const ids = Object.values(app.functionIds);
    const warm: string[] = [];
    for (const id of ids) {
      if (((await options.describe(id))?.def?.minContainers ?? 0) > 0) warm.push(id);
    }
    if (warm.length === 0) continue;
    if (options.appState && (await options.appState(app.appId)) !== "live") continue;
    for (const id of warm) out.add(id);
  }
  return out;
}

/** The candidates nobody among `live` holds and that rank `workerId` first. */
export function takeWarmDuties(workerId: string, options: {
  candidates: Set<string>;
  live: WorkerRecord[];
  held: Set<string>;
}): string[] {
  const ids = new Set([workerId, ...options.live.map((w) => w.workerId)]);
  const took: string[] = [];
  for (const fn of options.candidates) {
    if (options.held.has(fn)) continue;
    if (options.live.some((w) => w.workerId !== workerId && w.warm?.includes(fn))) continue;
    if (firstInRank(fn, ids) === workerId) took.push(fn);
  }
  return took;
}

/** The worker that ranks first for `functionId`: highest hash of the pair. */
export function firstInRank(functionId: string, workerIds: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const id of workerIds) {
    const score = fnv1a(`${functionId}\u0000${id}`);
    if (score > bestScore || (score === bestScore && best !== undefined && id < best)) {
      best = id;
      bestScore = score;
    }
  }
  return best;
}

/** 32-bit FNV-1a: a stable, well-spread hash of a short string. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
