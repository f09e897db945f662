/**
 * `StreamLogs`: an app's output as it is published, to its client or to
 * `app logs --follow`. Following a deployed name follows every version,
 * including versions deployed while following.
 */
import { Code, ConnectError, fromBinary } from "../proto/deps.ts";
import {
  type StreamLogsRequest,
  type StreamLogsResponse,
  StreamLogsResponseSchema,
} from "../proto/messages.ts";
import type { Clock, TimerHandle } from "../proto/clock.ts";
import { AsyncQueue } from "../proto/async_queue.ts";
import type { Store } from "./store/mod.ts";
import type { Deployments } from "./_deployments.ts";
import { isId } from "./_ids.ts";
import { invalid } from "./_validate.ts";

/** How often a follower of a deployed name looks for new versions. */
const NEW_VERSION_POLL_MS = 1_000;

/** The log followers of this control plane. */
export class LogStreams {
  readonly #store: Store;
  readonly #deployments: Deployments;
  readonly #clock: Clock;
  readonly #open = new Map<string, Set<AsyncQueue<[Uint8Array, number]>>>();

  constructor(store: Store, deployments: Deployments, clock: Clock) {
    this.#store = store;
    this.#deployments = deployments;
    this.#clock = clock;
  }

  /** Ends the streams following an app that stopped. */
  end(appId: string): void {
    for (const queue of this.#open.get(appId) ?? []) queue.close();
  }

  /** Streams an app's (or a deployed name's) log batches until `signal` aborts. */
  async *follow(req: StreamLogsRequest, signal: AbortSignal): AsyncGenerator<StreamLogsResponse> {
    const store = this.#store;
    const byName = req.name !== "";
    const appIds = byName ? await this.#deployments.appIds(req.name) : [req.appId];
    if (!byName) {
      if (!isId(req.appId, "ap")) invalid(`"${req.appId}" is not an app id`);
      if (!(await store.apps.getApp(req.appId))) {
        throw new ConnectError(`No app with id ${req.appId}`, Code.NotFound);
      }
    }
    const queue = new AsyncQueue<[Uint8Array, number]>();
    // Sequence numbers are per app: a stream over several versions has none.
    const listen = (appId: string) =>
      store.logs.subscribe(appId, (data, seq) => queue.push([data, byName ? 0 : seq]));
    const unsubscribes = await Promise.all(appIds.map(listen));
    const stopWatching = byName
      ? this.#watchVersions(req.name, appIds, async (id) => {
        unsubscribes.push(await listen(id));
      })
      : () => {};
    const onAbort = () => queue.close();
    signal.addEventListener("abort", onAbort);
    const key = byName ? `name:${req.name}` : req.appId;
    const streams = this.#open.get(key) ?? new Set();
    this.#open.set(key, streams.add(queue));
    try {
      for await (const [data, seq] of queue) {
        const batch = fromBinary(StreamLogsResponseSchema, data);
        batch.seq = seq;
        yield batch;
      }
    } finally {
      stopWatching();
      signal.removeEventListener("abort", onAbort);
      streams.delete(queue);
      if (streams.size === 0) this.#open.delete(key);
      for (const u of unsubscribes) u();
    }
  }

  /** Calls `onNew` for each version of `name` deployed after `known`; returns the stop function. */
  #watchVersions(name: string, known: string[], onNew: (appId: string) => Promise<void>) {
    const seen = new Set(known);
    let stopped = false;
    let timer: TimerHandle | undefined;
    const tick = () => {
      timer = this.#clock.setTimeout(async () => {
        const ids = await this.#deployments.appIds(name).catch(() => []);
        for (const id of ids.filter((i) => !seen.has(i))) {
          seen.add(id);
          await onNew(id).catch(() => {});
        }
        if (!stopped) tick();
      }, NEW_VERSION_POLL_MS);
    };
    tick();
    return () => {
      stopped = true;
      if (timer !== undefined) this.#clock.clearTimeout(timer);
    };
  }
}
