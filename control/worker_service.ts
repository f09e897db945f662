/**
 * The worker-facing RPCs: the `Work` stream that leases inputs to a worker
 * and takes back its outputs, logs and heartbeats.
 * @module
 */
import { Code, ConnectError, type ServiceImpl } from "../proto/mod.ts";
import { create, fromBinary, toBinary } from "../proto/mod.ts";
import {
  FunctionDefSchema,
  type GetFunctionResponse,
  GetFunctionResponseSchema,
  type LogLine,
  StreamLogsResponseSchema,
  type WorkerCommand,
  WorkerCommandSchema,
  type WorkerMessage,
  type WorkerService,
} from "../proto/messages.ts";
import type { Completion, Store } from "./store/mod.ts";
import { type Clock, systemClock } from "../proto/clock.ts";
import { AsyncQueue } from "../proto/async_queue.ts";
import { isId } from "./_ids.ts";
import { failExhausted } from "./_outputs.ts";
import { invalid } from "./_validate.ts";
import { HeldInputs } from "./_held_inputs.ts";
import { type WorkObserver, workObserverNone } from "./_work_observer.ts";

import { type AppState, AppWatch, WorkerHub } from "./_worker_hub.ts";

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

/** What a worker needs to run a function, or undefined if it does not exist. */
async function describeFunction(
  store: Store,
  functionId: string,
): Promise<GetFunctionResponse | undefined> {
  const fn = await store.apps.getFunction(functionId);
  const app = fn && await store.apps.getApp(fn.appId);
  if (!fn || !app) return undefined;
  return create(GetFunctionResponseSchema, {
    appId: app.appId,
    appName: app.name,
    bundleHash: app.bundleHash,
    entryUrl: app.entryUrl,
    def: fromBinary(FunctionDefSchema, fn.def),
  });
}

/** Implements `WorkerService` over a store. */
export function createWorkerService(
  store: Store,
  options: WorkerServiceOptions = {},
): Omit<ServiceImpl<typeof WorkerService>, "getSecretEnv"> {
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

interface WorkStreamOptions {
  signal: AbortSignal;
  hub: WorkerHub;
  clock: Clock;
  leaseMs: number;
  maxInfra: number;
  describe: (functionId: string) => Promise<GetFunctionResponse | undefined>;
  observer: WorkObserver;
  onLogs?: WorkerServiceOptions["onLogs"];
  appState?: WorkerServiceOptions["appState"];
}

async function* serveWorker(
  store: Store,
  messages: AsyncIterable<WorkerMessage>,
  options: WorkStreamOptions,
): AsyncGenerator<WorkerCommand> {
  const { signal, hub, clock, leaseMs, maxInfra, describe, observer } = options;
  const iter = messages[Symbol.asyncIterator]();
  const first = await iter.next();
  if (first.done || first.value.msg.case !== "hello") {
    invalid("a work stream must begin with hello");
  }
  const hello = first.value.msg.value;
  if (!/^[\w.-]{1,128}$/.test(hello.workerId)) invalid("worker_id must be 1-128 word characters");
  const workerId = hello.workerId;
  // What it holds, for `status` and the autoscaler; changes are written at most once a second.
  const held = new HeldInputs(clock, () => {
    store.workers.heartbeat(record()).catch(() => {});
  });
  const record = () => ({
    workerId,
    capacity: hello.capacity,
    runner: hello.runner.slice(0, 32),
    hostname: hello.hostname.slice(0, 255),
    lastSeenMs: clock.now(),
    ...held.load(),
  });
  await store.workers.heartbeat(record());
  observer.workerJoined(record());

  const out = new AsyncQueue<WorkerCommand>();
  // The first command tells the worker it is connected (and accepted), before any work.
  out.push(create(WorkerCommandSchema, { msg: { case: "ack", value: { results: 0 } } }));
  const removeFromHub = hub.add(out);
  const ctl = new AbortController();
  const onAbort = () => ctl.abort();
  signal.addEventListener("abort", onAbort);
  let credit = 0;
  let stored = 0;
  const describedHere = new Set<string>();
  const apps = new AppWatch(options.appState, (cmd) => out.push(cmd));
  let draining = false;
  let creditWake: (() => void) | undefined;

  const reader = (async () => {
    try {
      for (let r = await iter.next(); !r.done; r = await iter.next()) {
        const msg = r.value.msg;
        switch (msg.case) {
          case "credit":
            credit = Math.min(credit + msg.value.count, 100_000);
            creditWake?.();
            break;
          case "results": {
            const done: Completion[] = [];
            const again: { inputId: string; leaseToken: string }[] = [];
            for (const res of msg.value.results) {
              if (res.requeue) again.push({ inputId: res.inputId, leaseToken: res.leaseToken });
              else if (res.output.length) {
                done.push({
                  inputId: res.inputId,
                  leaseToken: res.leaseToken,
                  output: { idx: res.idx, data: res.output },
                });
              }
            }
            for (const res of msg.value.results) {
              const functionId = held.functionOf(res.inputId);
              if (res.requeue || !functionId) continue;
              observer.inputFinished(workerId, functionId, res.inputId, res.output);
            }
            held.remove(msg.value.results.map((res) => res.inputId));
            if (done.length) await store.queue.complete(done);
            if (again.length) {
              const report = await store.queue.requeue(again, maxInfra);
              observer.inputsRequeued(workerId, again.length, "its sandbox died");
              await failExhausted(store, report.exhausted, maxInfra);
            }
            stored += msg.value.results.length;
            out.push(create(WorkerCommandSchema, {
              msg: { case: "ack", value: { results: stored } },
            }));
            break;
          }
          case "heartbeat": {
            const { inputIds } = msg.value;
            const lost = await store.queue.renew(workerId, { inputIds, leaseMs });
            // Inputs it no longer holds (cancelled, or requeued elsewhere): stop running them.
            // This reaches workers whose calls were cancelled through another control plane.
            if (lost.length) {
              out.push(create(WorkerCommandSchema, {
                msg: { case: "cancel", value: { inputIds: lost } },
              }));
            }
            await store.workers.heartbeat(record());
            observer.workerHeartbeat(workerId, msg.value.figures);
            apps.check().catch(() => {});
            break;
          }
          case "logs":
            await publishLogs(store, msg.value.lines, options.onLogs);
            break;
          case "drain":
            draining = true;
            creditWake?.();
            break;
          default:
            invalid("unexpected message on a work stream");
        }
      }
    } catch (err) {
      if (!(err instanceof ConnectError && err.code === Code.Canceled)) out.close(err);
    } finally {
      ctl.abort();
      creditWake?.();
      out.close();
    }
  })();

  const leaser = (async () => {
    while (!ctl.signal.aborted) {
      if (credit <= 0 || draining) {
        await new Promise<void>((r) => creditWake = r);
        creditWake = undefined;
        continue;
      }
      const leases = await store.queue.lease(workerId, { max: credit, leaseMs });
      if (leases.length === 0) {
        await store.queue.waitInputs({ timeoutMs: 2_000, signal: ctl.signal });
        continue;
      }
      credit -= leases.length;
      held.add(leases.map((l) => l.input));
      observer.inputsLeased(leases.map((l) => l.input));
      const functions: Record<string, GetFunctionResponse> = {};
      for (const l of leases) {
        const id = l.input.functionId;
        if (describedHere.has(id) || id in functions) continue;
        const d = await describe(id);
        if (d) functions[id] = d;
        if (d) apps.note(d.appId);
        describedHere.add(id);
      }
      out.push(create(WorkerCommandSchema, {
        msg: {
          case: "assign",
          value: {
            leaseMs,
            functions,
            inputs: leases.map((l) => ({
              inputId: l.input.inputId,
              leaseToken: l.leaseToken,
              functionId: l.input.functionId,
              callId: l.input.callId,
              idx: l.input.idx,
              args: l.input.args,
              infraAttempt: l.input.infraAttempt,
            })),
          },
        },
      }));
    }
  })();

  try {
    yield* out;
  } finally {
    signal.removeEventListener("abort", onAbort);
    held.close();
    ctl.abort();
    creditWake?.();
    removeFromHub();
    await Promise.allSettled([reader, leaser]);
    // Whatever this worker still held runs again elsewhere.
    const report = await store.queue.releaseWorker(workerId, maxInfra);
    await failExhausted(store, report.exhausted, maxInfra);
    await store.workers.remove(workerId);
    observer.workerLeft(workerId, report.requeued);
  }
}

async function publishLogs(
  store: Store,
  lines: LogLine[],
  onLogs?: WorkerServiceOptions["onLogs"],
): Promise<void> {
  const byApp = new Map<string, LogLine[]>();
  for (const line of lines) {
    if (!isId(line.appId, "ap")) continue;
    let list = byApp.get(line.appId);
    if (!list) byApp.set(line.appId, list = []);
    list.push(line);
  }
  for (const [appId, list] of byApp) {
    await onLogs?.(appId, list).catch(() => {});
    await store.logs.publish(
      appId,
      toBinary(StreamLogsResponseSchema, create(StreamLogsResponseSchema, { lines: list })),
    );
  }
}
