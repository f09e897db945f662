/**
 * The control plane's view of what happens: it hears the worker service and
 * the control service, and keeps what `/metrics`, the event log and the
 * dashboard show (recent calls, per-function figures over the last minutes).
 * @module
 */
import { ResultStatus, type WebEnd } from "../proto/messages.ts";
import { outputFields } from "./_output_fields.ts";
import { type EventLog, silentEventLog } from "../proto/event_log.ts";
import type { Clock } from "../proto/clock.ts";
import type { AppRecord, InputRecord, Store, WorkerRecord } from "./store/mod.ts";
import type { WorkObserver } from "./_work_observer.ts";
import { ControlMetrics, type FunctionLabels } from "./_metrics.ts";

/** One finished input, as the dashboard lists it. */
export interface RecentCall {
  timeMs: number;
  appId: string;
  app: string;
  function: string;
  callId: string;
  inputId: string;
  status: string;
  durationMs: number;
}

/** A function's figures over the recent window. */
export interface FunctionFigures {
  success: number;
  failure: number;
  callsPerMinute: number;
  p50Ms: number;
  p99Ms: number;
}

const STATUS: Record<number, string> = {
  [ResultStatus.SUCCESS]: "success",
  [ResultStatus.FAILURE]: "failure",
  [ResultStatus.TIMEOUT]: "timeout",
  [ResultStatus.INTERNAL_FAILURE]: "internal",
};

const RECENT_CALLS = 100;
/** Durations kept per function for p50/p99 and calls per minute. */
const WINDOW = 1_000;
/** Functions whose figures are kept (the least recently called are forgotten first). */
const MAX_FUNCTIONS = 1_000;
/** Function ids whose names are cached (a miss reads the store again). */
const MAX_NAMES = 10_000;

interface Window {
  success: number;
  failure: number;
  /**
   * The last WINDOW finished inputs, a ring (`next` is where the oldest is overwritten):
   * when each finished and how long it ran, in two arrays of numbers (an object per input
   * was a map's largest allocation in the control plane's own code).
   */
  timeMs: Float64Array;
  durationMs: Float64Array;
  /** Entries filled (up to WINDOW). */
  size: number;
  next: number;
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Metrics, events and the dashboard's recent history of one control plane. */
export class ControlObserver implements WorkObserver {
  readonly metrics: ControlMetrics;
  readonly #store: Store;
  readonly #log: EventLog;
  readonly #clock: Clock;
  readonly #names = new Map<string, Promise<(FunctionLabels & { appId: string }) | undefined>>();
  /** The last RECENT_CALLS finished inputs, a ring whose entries are reused (copied on read). */
  readonly #recent: RecentCall[] = [];
  #recentNext = 0;
  readonly #windows = new Map<string, Window>();
  /** The function whose window was used last (already last in `#windows`'s order). */
  #lastWindow: string | undefined;
  /** Labels of functions already looked up: a map's outputs pass without a promise each. */
  readonly #known = new Map<string, FunctionLabels & { appId: string }>();

  constructor(store: Store, options: { clock: Clock; log?: EventLog }) {
    this.#store = store;
    this.#clock = options.clock;
    this.#log = options.log ?? silentEventLog;
    this.metrics = new ControlMetrics(store, (id) => this.#labels(id));
  }

  /** The app and function names of a function id (cached: functions never change). */
  #labels(functionId: string): Promise<(FunctionLabels & { appId: string }) | undefined> {
    let found = this.#names.get(functionId);
    if (!found) {
      found = (async () => {
        const fn = await this.#store.apps.getFunction(functionId);
        const app = fn && await this.#store.apps.getApp(fn.appId);
        return fn && app ? { app: app.name, function: fn.name, appId: app.appId } : undefined;
      })().catch(() => undefined);
      this.#names.set(functionId, found);
      // Every ephemeral run makes new function ids: keep the names of the latest ones only.
      if (this.#names.size > MAX_NAMES) {
        const oldest = this.#names.keys().next().value!;
        this.#names.delete(oldest);
        this.#known.delete(oldest);
      }
      found.then((v) => v ? this.#known.set(functionId, v) : this.#names.delete(functionId));
    }
    return found;
  }

  /** The last finished inputs, newest first. */
  recentCalls(): RecentCall[] {
    const n = this.#recent.length;
    const out: RecentCall[] = [];
    // Newest first: the ring's newest is just before `#recentNext`.
    for (let i = 1; i <= n; i++) {
      const call = this.#recent[(this.#recentNext - i + n) % n];
      out.push({ ...call, callId: call.inputId.slice(0, call.inputId.lastIndexOf(":")) });
    }
    return out;
  }

  /** A function's figures over the last minutes. */
  figures(functionId: string): FunctionFigures {
    const w = this.#windows.get(functionId);
    if (!w) return { success: 0, failure: 0, callsPerMinute: 0, p50Ms: 0, p99Ms: 0 };
    const since = this.#clock.now() - 60_000;
    const sorted = [...w.durationMs.subarray(0, w.size)].sort((a, b) => a - b);
    let callsPerMinute = 0;
    for (let i = 0; i < w.size; i++) if (w.timeMs[i] >= since) callsPerMinute++;
    return {
      success: w.success,
      failure: w.failure,
      callsPerMinute,
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
    };
  }

  appCreated(app: AppRecord): void {
    const n = Object.keys(app.functionIds).length;
    this.#log.event(
      "app.created",
      `app "${app.name}" created (${app.appId}, ${
        app.ephemeral ? "ephemeral" : "deployed"
      }, ${n} function${n === 1 ? "" : "s"})`,
      { app: app.name, appId: app.appId, ephemeral: app.ephemeral, functions: n },
    );
  }

  appStopped(appId: string): void {
    this.#store.apps.getApp(appId).then((app) => {
      this.#log.event("app.stopped", `app "${app?.name ?? "?"}" stopped (${appId})`, {
        app: app?.name,
        appId,
      });
    }, () => {});
  }

  /** An autoscaler's decision, as it reported it. */
  scaling(d: { from: number; to: number; reason: string }): void {
    if (d.to === d.from) return;
    const direction = d.to > d.from ? "up" : "down";
    this.metrics.autoscalerDecision(direction);
    this.#log.event(
      "autoscaler.decision",
      `autoscaler: scale ${direction} ${d.from} → ${d.to} workers (${d.reason})`,
      { direction, from: d.from, to: d.to, reason: d.reason },
    );
  }

  workerJoined(w: WorkerRecord): void {
    this.#log.event(
      "worker.joined",
      `worker ${w.workerId} joined (${w.hostname}, ${w.runner} runner, capacity ${w.capacity})`,
      { workerId: w.workerId, hostname: w.hostname, runner: w.runner, capacity: w.capacity },
    );
  }

  /** Sandboxes on connected workers by state. */
  containers(): { idle: number; busy: number; starting: number } {
    return this.metrics.containerCounts();
  }

  workerLeft(workerId: string, requeued: number): void {
    this.metrics.workerLeft(workerId);
    if (requeued) this.metrics.inputsRequeued(requeued);
    this.#log.event(
      "worker.left",
      `worker ${workerId} left${
        requeued ? `; ${requeued} input(s) it held run again elsewhere` : ""
      }`,
      { workerId, requeued },
    );
  }

  workerHeartbeat(workerId: string, figures: Record<string, number>): void {
    this.metrics.workerReported(workerId, figures);
  }

  inputsLeased(inputs: InputRecord[]): void {
    let bytes = 0;
    for (const i of inputs) bytes += i.args.byteLength;
    this.metrics.inputsSent(bytes);
    const again = inputs.filter((i) => i.infraAttempt > 0);
    for (const i of again) {
      this.#log.event(
        "input.rerun",
        `input ${i.inputId} runs again (attempt ${
          i.infraAttempt + 1
        }: its worker or sandbox was lost)`,
        { inputId: i.inputId, attempt: i.infraAttempt + 1 },
      );
    }
  }

  inputFinished(_workerId: string, functionId: string, inputId: string, output: Uint8Array): void {
    // Bytes that do not decode (the caller finds out) count as internal.
    const o = outputFields(output);
    const status = (o && STATUS[o.status]) ?? "internal";
    const durationMs = o?.durationMs ?? 0;
    this.#finished(functionId, inputId, status, durationMs, output.byteLength);
  }

  /** A web request served on the direct path ended (`end` undefined: its worker was lost). */
  webCallFinished(functionId: string, callId: string, end: WebEnd | undefined): void {
    const status = end ? STATUS[end.status] ?? "internal" : "internal";
    this.metrics.webDirect();
    this.#finished(functionId, `${callId}:0`, status, end?.durationMs ?? 0, 0);
  }

  #finished(
    functionId: string,
    inputId: string,
    status: string,
    durationMs: number,
    bytes: number,
  ): void {
    const timeMs = this.#clock.now();
    let w = this.#windows.get(functionId);
    if (!w || this.#lastWindow !== functionId) {
      w ??= {
        success: 0,
        failure: 0,
        timeMs: new Float64Array(WINDOW),
        durationMs: new Float64Array(WINDOW),
        size: 0,
        next: 0,
      };
      this.#windows.delete(functionId); // re-inserted last: the map's order is most recent use
      this.#windows.set(functionId, w);
      this.#lastWindow = functionId;
      if (this.#windows.size > MAX_FUNCTIONS) {
        this.#windows.delete(this.#windows.keys().next().value!);
      }
    }
    if (status === "success") w.success++;
    else w.failure++;
    w.timeMs[w.next] = timeMs;
    w.durationMs[w.next] = durationMs;
    w.next = (w.next + 1) % WINDOW;
    if (w.size < WINDOW) w.size++;
    const known = this.#known.get(functionId);
    if (known) {
      this.#remember(timeMs, known, inputId, status, durationMs);
      this.metrics.callFinished(known, status, durationMs, bytes);
      return;
    }
    this.#labels(functionId).then((labels) => {
      if (!labels) return;
      this.#remember(timeMs, labels, inputId, status, durationMs);
      this.metrics.callFinished(labels, status, durationMs, bytes);
    }).catch((err) => console.error(`nano-modal metrics: ${(err as Error).message}`));
  }

  #remember(
    timeMs: number,
    labels: FunctionLabels & { appId: string },
    inputId: string,
    status: string,
    durationMs: number,
  ): void {
    // The call id is cut from the input id only when read: a map's inputs pass by the thousand.
    const entry = this.#recent.length < RECENT_CALLS ? undefined : this.#recent[this.#recentNext];
    if (entry) {
      entry.timeMs = timeMs;
      entry.appId = labels.appId;
      entry.app = labels.app;
      entry.function = labels.function;
      entry.inputId = inputId;
      entry.status = status;
      entry.durationMs = durationMs;
    } else {
      this.#recent.push({
        timeMs,
        appId: labels.appId,
        app: labels.app,
        function: labels.function,
        callId: "",
        inputId,
        status,
        durationMs,
      });
    }
    this.#recentNext = (this.#recentNext + 1) % RECENT_CALLS;
  }

  inputsRequeued(workerId: string, count: number, why: string): void {
    this.metrics.inputsRequeued(count);
    this.#log.event(
      "input.lost",
      `worker ${workerId}: ${count} input(s) lost (${why}); queued to run again`,
      { workerId, count, why },
    );
  }
}
