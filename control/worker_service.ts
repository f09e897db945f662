/**
 * The worker-facing RPCs: the `Work` stream that leases inputs to a worker
 * and takes back its outputs, logs and heartbeats (served by `_work_stream.ts`,
 * the server half of `runner/_work_stream.ts`), and what workers fetch.
 * @module
 */
import { Code, ConnectError, type ServiceImpl } from "../proto/deps.ts";
import type { GetFunctionResponse, LogLine, WorkerService } from "../proto/messages.ts";
import type { Store } from "./store/mod.ts";
import { type Clock, systemClock } from "../proto/clock.ts";
import { describeFunction } from "./_describe_function.ts";
import { isId } from "./_ids.ts";
import { invalid } from "./_validate.ts";
import { serveWorker } from "./_work_stream.ts";
import { type WorkObserver, workObserverNone } from "./_work_observer.ts";
import { type AppState, WorkerHub } from "./_worker_hub.ts";
import { loadWarmCandidates } from "./_warm_duty.ts";

export { type AppState, WorkerHub };

/** Tuning of the worker service. */
export interface WorkerServiceOptions {
  /** Where live streams register, to hear of stopped apps. @default a hub of its own */
  hub?: WorkerHub;
  /** Time for leases and heartbeats. @default systemClock */
  clock?: Clock;
  /** How long a lease lasts without a heartbeat. @default 30_000 */
  leaseMs?: number;
  /** Times an input may take down its worker or sandbox before it fails. @default 3 */
  maxInfraAttempts?: number;
  /** Sees every batch of log lines workers send (to keep deployed apps' output). */
  onLogs?: (appId: string, lines: LogLine[]) => Promise<void>;
  /**
   * Whether an app's containers should stop ("stopped") or drain ("drain"),
   * asked for the apps a stream runs each time its worker heartbeats, so
   * workers of other control planes on the same store learn it too.
   */
  appState?: (appId: string) => Promise<AppState>;
  /** Makes calls that user code inside sandboxes asked their worker for (see `_nested_calls.ts`). */
  nestedCall?: ServiceImpl<typeof WorkerService>["nestedCall"];
  /** Told what workers do, for metrics, the event log and the dashboard. */
  observer?: WorkObserver;
}

/** Implements `WorkerService` over a store. */
export function createWorkerService(
  store: Store,
  options: WorkerServiceOptions = {},
): Omit<ServiceImpl<typeof WorkerService>, "getSecretEnv" | "webStream"> {
  const leaseMs = options.leaseMs ?? 30_000;
  const hub = options.hub ?? new WorkerHub();
  const clock = options.clock ?? systemClock;
  // Functions never change once created, so their descriptions are cached.
  const described = new Map<string, Promise<GetFunctionResponse | undefined>>();
  const describe = (functionId: string) => {
    let found = described.get(functionId);
    if (!found) {
      found = describeFunction(store, functionId);
      described.set(functionId, found);
      found.then((d) => d || described.delete(functionId), () => described.delete(functionId));
    }
    return found;
  };
  const maxInfra = options.maxInfraAttempts ?? 3;
  hub.board.loadCandidatesWith(
    () => loadWarmCandidates(store, { describe, appState: options.appState }),
    clock,
  );

  return {
    async getFunction(req) {
      if (!isId(req.functionId, "fu")) invalid(`"${req.functionId}" is not a function id`);
      const described = await describe(req.functionId);
      if (!described) {
        throw new ConnectError(`No function with id ${req.functionId}`, Code.NotFound);
      }
      return described;
    },

    async getBundle(req) {
      if (!/^[0-9a-f]{64}$/.test(req.hash)) invalid("hash must be a hex SHA-256");
      const data = await store.blobs.get(req.hash);
      if (!data) throw new ConnectError(`No bundle ${req.hash}`, Code.NotFound);
      return { data };
    },

    nestedCall(req, ctx) {
      if (!options.nestedCall) {
        throw new ConnectError(
          "This control plane takes no calls from functions",
          Code.Unimplemented,
        );
      }
      return options.nestedCall(req, ctx);
    },

    work(messages, ctx) {
      return serveWorker(store, messages, {
        signal: ctx.signal,
        hub,
        clock,
        leaseMs,
        maxInfra,
        describe,
        observer: options.observer ?? workObserverNone,
        onLogs: options.onLogs,
        appState: options.appState,
      });
    },
  };
}
