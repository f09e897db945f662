/**
 * The control plane's half of the `WorkerService/Work` stream; the worker's
 * half is `runner/_work_stream.ts`, and the protocol is written above the rpc
 * in `proto/nano_modal.proto`. In: hello, credit, results, heartbeats, logs,
 * drain. Out: assigned inputs (leased), acknowledgements, stopped apps, cancels.
 */
import { functionContainers } from "../proto/heartbeat_figures.ts";
import { Code, ConnectError, create, toBinary } from "../proto/deps.ts";
import {
  type GetFunctionResponse,
  type LogLine,
  StreamLogsResponseSchema,
  type WorkerCommand,
  WorkerCommandSchema,
  type WorkerMessage,
  type WorkInput,
} from "../proto/messages.ts";
import type { Store, WorkerRecord } from "./store/mod.ts";
import type { Clock } from "../proto/clock.ts";
import { AsyncQueue } from "../proto/async_queue.ts";
import { isId } from "./_ids.ts";
import { failExhausted } from "./_outputs.ts";
import { invalid } from "./_validate.ts";
import { HeldInputs } from "./_held_inputs.ts";
import { ResultBatcher } from "./_result_batcher.ts";
import { LeaseAhead } from "./_lease_ahead.ts";
import { AppWatch, type WorkerHub } from "./_worker_hub.ts";
import { MAX_PRESTART, prestartable } from "../proto/prestart.ts";
import type { WorkerServiceOptions } from "./worker_service.ts";
import type { WorkObserver } from "./_work_observer.ts";
import { ClusterShare } from "./_cluster_share.ts";

/** What one stream needs from the worker service. */
export interface WorkStreamOptions {
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

/** Functions of one app described to workers ahead of their inputs, at most. */
const MAX_PREFETCH = 32;

/** Serves one worker's `Work` stream until it ends or `options.signal` aborts. */
export async function* serveWorker(
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
  let containers: Record<string, number> = {};
  const record = (): WorkerRecord => ({
    workerId,
    capacity: hello.capacity,
    runner: hello.runner.slice(0, 32),
    hostname: hello.hostname.slice(0, 255),
    lastSeenMs: clock.now(),
    ...held.load(),
    containers,
    ...share.fields(),
  });
  const out = new AsyncQueue<WorkerCommand>();
  // How many containers it may run (maxContainers is cluster-wide) and its warm duties.
  const share = new ClusterShare({
    workerId,
    store,
    clock,
    leaseMs,
    board: hub.board,
    describe,
    // Direct web requests are demand too (they never pass through this stream).
    held: () => hub.board.withWebHeld(workerId, held.load().running),
    containers: () => containers,
    send: (cmd) => out.push(cmd),
    save: () => store.workers.heartbeat(record()),
  });
  await store.workers.heartbeat(record());
  observer.workerJoined(record());

  // The first command tells the worker it is connected (and accepted), before any work.
  out.push(create(WorkerCommandSchema, { msg: { case: "ack", value: { results: 0 } } }));
  const removeFromHub = hub.add(out, {
    // Best effort: the first input describes them otherwise.
    prefetch: (ids, start) => void prefetch(ids, start).catch(() => {}),
    room: () => draining || ctl.signal.aborted ? 0 : credit,
  });
  const ctl = new AbortController();
  const onAbort = () => ctl.abort();
  signal.addEventListener("abort", onAbort);
  let credit = 0;
  let stored = 0;
  const describedHere = new Set<string>();
  const apps = new AppWatch(options.appState, (cmd) => out.push(cmd));
  let draining = false;
  let creditWake: (() => void) | undefined;
  // Leases a little ahead of credit: returned credit is met at once, the store asked in batches.
  const ahead = new LeaseAhead(store.queue, workerId, {
    leaseMs,
    clock,
    maxAhead: Math.min(hello.capacity, 1024),
  });
  // Results are stored in order, a burst of them in one write; acks follow the writes.
  const batcher = new ResultBatcher(store, {
    maxInfra,
    onStored: (count) => {
      stored += count;
      out.push(create(WorkerCommandSchema, { msg: { case: "ack", value: { results: stored } } }));
    },
    onRequeued: (count) => observer.inputsRequeued(workerId, count, "its sandbox died"),
    onError: (err) => out.close(err),
  });

  // The stream ends (an error, a stop) while the worker's side is still open: stop reading
  // then, or the response would wait for the worker's next message to end. One listener
  // per read, removed after it: a promise raced against every read for the stream's whole
  // life would keep every message the worker ever sent (its reactions hold them).
  const next = () =>
    new Promise<IteratorResult<WorkerMessage>>((resolve, reject) => {
      const signal = ctl.signal;
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      iter.next().then((r) => {
        signal.removeEventListener("abort", onAbort);
        resolve(r);
      }, (err) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      });
    });
  const reader = (async () => {
    try {
      for (let r = await next(); !r.done; r = await next()) {
        const msg = r.value.msg;
        switch (msg.case) {
          case "credit":
            credit = Math.min(credit + msg.value.count, 100_000);
            ahead.widen(credit);
            creditWake?.();
            break;
          case "results": {
            const { results } = msg.value;
            const functionIds = held.take(results.map((res) => res.inputId));
            for (let i = 0; i < results.length; i++) {
              const res = results[i], functionId = functionIds[i];
              if (res.requeue || !functionId) continue;
              observer.inputFinished(workerId, functionId, res.inputId, res.output);
            }
            batcher.add(results);
            break;
          }
          case "heartbeat": {
            const { inputIds } = msg.value;
            const notHeld = await store.queue.renew(workerId, {
              inputIds: [...inputIds, ...ahead.ids()],
              leaseMs,
            });
            const lost = ahead.forget(notHeld);
            // Inputs it no longer holds (cancelled, or requeued elsewhere): stop running them.
            // This reaches workers whose calls were cancelled through another control plane.
            if (lost.length) {
              out.push(create(WorkerCommandSchema, {
                msg: { case: "cancel", value: { inputIds: lost } },
              }));
            }
            containers = functionContainers(msg.value.figures);
            share.acknowledge(msg.value.figures);
            await store.workers.heartbeat(record());
            observer.workerHeartbeat(workerId, msg.value.figures);
            share.heartbeat().catch(() => {});
            apps.check().catch(() => {});
            break;
          }
          case "logs":
            await publishLogs(store, msg.value.lines, options.onLogs);
            break;
          case "drain":
            draining = true;
            share.drain().catch(() => {});
            creditWake?.();
            await ahead.giveBack();
            break;
          default:
            invalid("unexpected message on a work stream");
        }
      }
    } catch (err) {
      if (ctl.signal.aborted) return;
      if (!(err instanceof ConnectError && err.code === Code.Canceled)) out.close(err);
    } finally {
      ctl.abort();
      creditWake?.();
      out.close();
    }
  })();

  const leaser = (async () => {
    while (!ctl.signal.aborted) await leaseOnce();
  })().catch((err) => {
    // The store failed (Redis away): end the stream; the worker reconnects with backoff.
    if (!ctl.signal.aborted) out.close(err);
  });

  /**
   * Describes a new app's functions before any of their inputs (an assign
   * with none): the worker downloads their bundles meanwhile. With `start`, the
   * first {@linkcode MAX_PRESTART} that may start early (`proto/prestart.ts`) and
   * get an allowance of one are described again, asking the worker to start
   * their first containers.
   */
  async function prefetch(functionIds: string[], start = false): Promise<void> {
    const functions: Record<string, GetFunctionResponse> = {};
    for (const id of functionIds.slice(0, MAX_PREFETCH)) {
      if (describedHere.has(id)) continue;
      const d = await describe(id);
      if (!d || describedHere.has(id)) continue; // the leaser may have described it meanwhile
      describedHere.add(id);
      apps.note(d.appId);
      functions[id] = d;
    }
    if (Object.keys(functions).length === 0 || ctl.signal.aborted) return;
    // Described at once (an input leased meanwhile goes without its description), ...
    out.push(create(WorkerCommandSchema, {
      msg: { case: "assign", value: { leaseMs, functions, inputs: [] } },
    }));
    if (!start) return;
    // ... then, for those granted an allowance, described again with start.
    const wanted = Object.keys(functions)
      .filter((id) => prestartable(functions[id].def ?? {}))
      .slice(0, MAX_PRESTART);
    if (wanted.length === 0) return;
    const granted = await share.beforePrestart(wanted).catch(() => []);
    if (granted.length === 0 || ctl.signal.aborted) return;
    const starting = Object.fromEntries(granted.map((id) => [id, functions[id]]));
    out.push(create(WorkerCommandSchema, {
      msg: { case: "assign", value: { leaseMs, functions: starting, inputs: [], start: true } },
    }));
  }

  /** One turn of the leaser: waits for credit or inputs, or assigns a batch. */
  async function leaseOnce(): Promise<void> {
    if (credit <= 0 || draining) {
      await new Promise<void>((r) => creditWake = r);
      creditWake = undefined;
      return;
    }
    const leases = await ahead.take(credit);
    if (leases.length === 0) {
      await store.queue.waitInputs({ timeoutMs: 2_000, signal: ctl.signal });
      return;
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
    await share.beforeAssign(leases.map((l) => l.input.functionId)).catch(() => {});
    out.push(create(WorkerCommandSchema, {
      msg: {
        case: "assign",
        value: {
          leaseMs,
          functions,
          // Messages already (every field given): create() takes them as they are instead of
          // building each again from its fields.
          inputs: leases.map((l): WorkInput => ({
            $typeName: "nanomodal.v1.WorkInput",
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

  try {
    yield* out;
  } finally {
    signal.removeEventListener("abort", onAbort);
    held.close();
    share.close();
    ctl.abort();
    creditWake?.();
    removeFromHub();
    await Promise.allSettled([reader, leaser]);
    await batcher.idle();
    // Inputs leased ahead never reached the worker: back to the front of the queue.
    await ahead.giveBack().catch(() => {});
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
