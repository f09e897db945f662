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
import type { Backend, Completion } from "./backend.ts";
import { AsyncQueue } from "../proto/async_queue.ts";
import { isId } from "./_ids.ts";
import { infraFailure } from "./_outputs.ts";
import { invalid } from "./_validate.ts";

/** Tuning of the worker service. */
export interface WorkerServiceOptions {
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
  appState?: (appId: string) => Promise<"live" | "stopped" | "drain">;
  /** Makes calls that user code inside sandboxes asked their worker for (see `_nested_calls.ts`). */
  nestedCall?: ServiceImpl<typeof WorkerService>["nestedCall"];
}

/** Live worker streams on this control plane, to tell them about stopped apps. */
export class WorkerHub {
  readonly #streams = new Set<AsyncQueue<WorkerCommand>>();

  /** Registers a stream's outgoing queue; returns the function that removes it. */
  add(queue: AsyncQueue<WorkerCommand>): () => void {
    this.#streams.add(queue);
    return () => this.#streams.delete(queue);
  }

  /** Tells every worker that an app stopped (or, with `drain`, was superseded). */
  appStopped(appId: string, drain = false): void {
    const cmd = create(WorkerCommandSchema, {
      msg: { case: "appStopped", value: { appId, drain } },
    });
    for (const q of this.#streams) q.push(cmd);
  }

  /** Tells every worker to stop running these inputs (their calls were cancelled). */
  cancel(inputIds: string[]): void {
    if (inputIds.length === 0) return;
    const cmd = create(WorkerCommandSchema, { msg: { case: "cancel", value: { inputIds } } });
    for (const q of this.#streams) q.push(cmd);
  }
}

/** What a worker needs to run a function, or undefined if it does not exist. */
async function describeFunction(
  backend: Backend,
  functionId: string,
): Promise<GetFunctionResponse | undefined> {
  const fn = await backend.getFunction(functionId);
  const app = fn && await backend.getApp(fn.appId);
  if (!fn || !app) return undefined;
  return create(GetFunctionResponseSchema, {
    appId: app.appId,
    appName: app.name,
    bundleHash: app.bundleHash,
    entryUrl: app.entryUrl,
    def: fromBinary(FunctionDefSchema, fn.def),
  });
}

/** Fails inputs that exhausted their infrastructure retries. */
export async function failExhausted(
  backend: Backend,
  exhausted: { inputId: string; idx: number; infraAttempt: number }[],
  maxInfraAttempts: number,
): Promise<void> {
  if (exhausted.length === 0) return;
  await backend.complete(exhausted.map((input) => ({
    inputId: input.inputId,
    leaseToken: null,
    output: infraFailure(input as Parameters<typeof infraFailure>[0], maxInfraAttempts),
  })));
}

/** Implements `WorkerService` over a backend. */
export function createWorkerService(
  backend: Backend,
  hub: WorkerHub,
  options: WorkerServiceOptions = {},
): ServiceImpl<typeof WorkerService> {
  const leaseMs = options.leaseMs ?? 30_000;
  // Functions never change once created, so their descriptions are cached.
  const described = new Map<string, Promise<GetFunctionResponse | undefined>>();
  const describe = (functionId: string) => {
    let found = described.get(functionId);
    if (!found) {
      found = describeFunction(backend, functionId);
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
      const data = await backend.getBundle(req.hash);
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
      return serveWorker(backend, hub, messages, ctx.signal, leaseMs, maxInfra, describe, options);
    },
  };
}

async function* serveWorker(
  backend: Backend,
  hub: WorkerHub,
  messages: AsyncIterable<WorkerMessage>,
  signal: AbortSignal,
  leaseMs: number,
  maxInfra: number,
  describe: (functionId: string) => Promise<GetFunctionResponse | undefined>,
  options: WorkerServiceOptions,
): AsyncGenerator<WorkerCommand> {
  const iter = messages[Symbol.asyncIterator]();
  const first = await iter.next();
  if (first.done || first.value.msg.case !== "hello") {
    invalid("a work stream must begin with hello");
  }
  const hello = first.value.msg.value;
  if (!/^[\w.-]{1,128}$/.test(hello.workerId)) invalid("worker_id must be 1-128 word characters");
  const workerId = hello.workerId;
  const record = () => ({
    workerId,
    capacity: hello.capacity,
    runner: hello.runner.slice(0, 32),
    hostname: hello.hostname.slice(0, 255),
    lastSeenMs: Date.now(),
  });
  await backend.heartbeatWorker(record());

  const out = new AsyncQueue<WorkerCommand>();
  const removeFromHub = hub.add(out);
  const ctl = new AbortController();
  const onAbort = () => ctl.abort();
  signal.addEventListener("abort", onAbort);
  let credit = 0;
  let stored = 0;
  const describedHere = new Set<string>();
  /** Apps this stream runs, and what it was last told about each. */
  const appsHere = new Map<string, "live" | "stopped" | "drain">();
  const checkApps = async () => {
    if (!options.appState) return;
    for (const [appId, told] of appsHere) {
      if (told === "stopped") continue;
      const state = await options.appState(appId);
      if (state === told) continue;
      appsHere.set(appId, state);
      if (state !== "live") {
        out.push(create(WorkerCommandSchema, {
          msg: { case: "appStopped", value: { appId, drain: state === "drain" } },
        }));
      }
    }
  };
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
            if (done.length) await backend.complete(done);
            if (again.length) {
              const report = await backend.requeue(again, maxInfra);
              await failExhausted(backend, report.exhausted, maxInfra);
            }
            stored += msg.value.results.length;
            out.push(create(WorkerCommandSchema, {
              msg: { case: "ack", value: { results: stored } },
            }));
            break;
          }
          case "heartbeat":
            await backend.renew(workerId, msg.value.inputIds, leaseMs);
            await backend.heartbeatWorker(record());
            checkApps().catch(() => {});
            break;
          case "logs":
            await publishLogs(backend, msg.value.lines, options.onLogs);
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
      const leases = await backend.lease(workerId, credit, leaseMs);
      if (leases.length === 0) {
        await backend.waitInputs(2_000, ctl.signal);
        continue;
      }
      credit -= leases.length;
      const functions: Record<string, GetFunctionResponse> = {};
      for (const l of leases) {
        const id = l.input.functionId;
        if (describedHere.has(id) || id in functions) continue;
        const d = await describe(id);
        if (d) functions[id] = d;
        if (d && !appsHere.has(d.appId)) appsHere.set(d.appId, "live");
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
    ctl.abort();
    creditWake?.();
    removeFromHub();
    await Promise.allSettled([reader, leaser]);
    // Whatever this worker still held runs again elsewhere.
    const report = await backend.releaseWorker(workerId, maxInfra);
    await failExhausted(backend, report.exhausted, maxInfra);
    await backend.removeWorker(workerId);
  }
}

async function publishLogs(
  backend: Backend,
  lines: LogLine[],
  onLogs?: (appId: string, lines: LogLine[]) => Promise<void>,
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
    await backend.publishLogs(
      appId,
      toBinary(StreamLogsResponseSchema, create(StreamLogsResponseSchema, { lines: list })),
    );
  }
}
