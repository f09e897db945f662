/**
 * The control plane's Prometheus metrics (`GET /metrics`), kept in its own
 * registry (`_prom_text.ts`). Calls, durations and bytes are counted where results
 * arrive; queue depth, running inputs and workers are read from the store at
 * scrape time; workers' own figures (containers, cold starts, image builds,
 * sandbox deaths) arrive with their heartbeats, since the control plane and
 * the workers share no memory. Each series is documented in README.md
 * ("Metrics").
 * @module
 */
import { Counter, Gauge, Histogram, MetricsRegistry } from "./_prom_text.ts";
import type { Store } from "./store/mod.ts";
import { CallTally } from "./_call_tally.ts";

/** Names of a function, as labels. */
export interface FunctionLabels {
  app: string;
  function: string;
}

/** A worker's figures as its heartbeat carries them. */
export type WorkerFigures = Record<string, number>;

/** Figures that are running totals on the worker (the rest are current counts). */
const TOTALS = ["cold_starts", "sandbox_deaths", "image_builds"];

/** Seconds buckets for call durations: 5 ms to 10 minutes. */
const DURATION_BUCKETS = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  300,
  600,
];

/** What the control plane counts; one per server. */
export class ControlMetrics {
  /** The registry `/metrics` renders. */
  readonly registry: MetricsRegistry = new MetricsRegistry();
  readonly #calls: Counter<"app" | "function" | "status">;
  readonly #duration: Histogram<"app" | "function">;
  readonly #bytes: Counter<"direction">;
  readonly #requeued: Counter<string>;
  readonly #webDirect: Counter<string>;
  readonly #decisions: Counter<"direction">;
  readonly #totals: Record<string, Counter<string>>;
  /** Calls finished since the last flush (counted once per function and status). */
  readonly #tally = new CallTally<FunctionLabels>({
    calls: (l, status, n) => this.#calls.inc({ app: l.app, function: l.function, status }, n),
    durations: (l, s) => this.#duration.observeAll({ app: l.app, function: l.function }, s),
    bytes: (n) => this.#bytes.inc({ direction: "out" }, n),
  });
  /** Last totals and counts each connected worker reported. */
  readonly #workers = new Map<string, WorkerFigures>();

  /** Reads queue depth, running inputs and workers from `store` at each scrape. */
  constructor(store: Store, names: (functionId: string) => Promise<FunctionLabels | undefined>) {
    const r = [this.registry];
    this.#calls = new Counter({
      name: "nano_modal_calls_total",
      beforeRender: () => this.#tally.flush(),
      help: "Inputs finished, by app, function and status (success, failure, timeout, internal)",
      labelNames: ["app", "function", "status"],
      registers: r,
    });
    this.#duration = new Histogram({
      name: "nano_modal_call_duration_seconds",
      beforeRender: () => this.#tally.flush(),
      help: "Time a function ran for one input, as its worker measured it",
      labelNames: ["app", "function"],
      buckets: DURATION_BUCKETS,
      registers: r,
    });
    this.#bytes = new Counter({
      name: "nano_modal_payload_bytes_total",
      beforeRender: () => this.#tally.flush(),
      help: "Argument bytes sent to workers (in) and result bytes received from them (out)",
      labelNames: ["direction"],
      registers: r,
    });
    this.#webDirect = new Counter({
      name: "nano_modal_web_direct_requests_total",
      help: "Web requests sent straight to a worker's web stream (the others were queued)",
      registers: r,
    });
    this.#requeued = new Counter({
      name: "nano_modal_inputs_requeued_total",
      help: "Inputs lost with their worker or sandbox and queued to run again",
      registers: r,
    });
    this.#decisions = new Counter({
      name: "nano_modal_autoscaler_decisions_total",
      help: "Autoscaler decisions reported to this control plane, by direction (up, down)",
      labelNames: ["direction"],
      registers: r,
    });
    const total = (name: string, help: string) =>
      new Counter({ name: `nano_modal_${name}_total`, help, registers: r });
    this.#totals = {
      cold_starts: total("cold_starts", "Sandboxes started by the workers of this control plane"),
      sandbox_deaths: total("sandbox_deaths", "Sandboxes that died without being stopped"),
      image_builds: total("image_builds", "Images built by the workers of this control plane"),
    };
    const workers = this.#workers;
    new Gauge({
      name: "nano_modal_containers",
      help: "Sandboxes on connected workers, by state (idle, busy, starting)",
      labelNames: ["state"],
      registers: r,
      collect() {
        for (const state of ["idle", "busy", "starting"]) {
          let n = 0;
          for (const f of workers.values()) n += f[`containers_${state}`] ?? 0;
          this.set({ state }, n);
        }
      },
    });
    new Gauge({
      name: "nano_modal_workers",
      help: "Workers that reported in the last minute (all control planes of a shared store)",
      registers: r,
      async collect() {
        const after = Date.now() - 60_000;
        this.set((await store.workers.list()).filter((w) => w.lastSeenMs >= after).length);
      },
    });
    new Gauge({
      name: "nano_modal_queue_depth",
      help: "Inputs waiting for a worker, by app and function",
      labelNames: ["app", "function"],
      registers: r,
      async collect() {
        this.reset();
        for (const [id, n] of Object.entries(await store.queue.depth())) {
          const labels = await names(id);
          if (labels) this.set({ app: labels.app, function: labels.function }, n);
        }
      },
    });
    new Gauge({
      name: "nano_modal_running_inputs",
      help: "Inputs held by workers, by app and function (as of their last report)",
      labelNames: ["app", "function"],
      registers: r,
      async collect() {
        this.reset();
        const after = Date.now() - 60_000;
        const sums: Record<string, number> = {};
        for (const w of await store.workers.list()) {
          if (w.lastSeenMs < after) continue;
          for (const [id, n] of Object.entries(w.running ?? {})) sums[id] = (sums[id] ?? 0) + n;
        }
        for (const [id, n] of Object.entries(sums)) {
          const labels = await names(id);
          if (labels) this.set({ app: labels.app, function: labels.function }, n);
        }
      },
    });
  }

  /** One finished input. `status` is lower case (`success`, `failure`, ...). */
  callFinished(labels: FunctionLabels, status: string, durationMs: number, bytes: number): void {
    this.#tally.add(labels, status, durationMs, bytes);
  }

  /** A web request served on the direct path. */
  webDirect(): void {
    this.#webDirect.inc();
  }

  /** Argument bytes handed to a worker. */
  inputsSent(bytes: number): void {
    this.#bytes.inc({ direction: "in" }, bytes);
  }

  /** Inputs queued again after their worker or sandbox was lost. */
  inputsRequeued(count: number): void {
    this.#requeued.inc(count);
  }

  /** An autoscaler decision (reported over the `ReportScaling` RPC). */
  autoscalerDecision(direction: "up" | "down"): void {
    this.#decisions.inc({ direction });
  }

  /** A worker's heartbeat figures: totals become counter increments, counts replace. */
  workerReported(workerId: string, figures: WorkerFigures): void {
    const last = this.#workers.get(workerId) ?? {};
    for (const key of TOTALS) {
      const now = figures[key] ?? 0;
      const delta = now - (last[key] ?? 0);
      if (delta > 0) this.#totals[key].inc(delta);
    }
    this.#workers.set(workerId, figures);
  }

  /** A worker's stream ended: its containers no longer count (its totals stay counted). */
  workerLeft(workerId: string): void {
    const last = this.#workers.get(workerId);
    if (!last) return;
    // Its totals stay, so a reconnect of the same worker adds only what is new.
    this.#workers.set(workerId, Object.fromEntries(TOTALS.map((k) => [k, last[k] ?? 0])));
  }

  /** Sandboxes on connected workers by state, as they last reported. */
  containerCounts(): { idle: number; busy: number; starting: number } {
    const total = { idle: 0, busy: 0, starting: 0 };
    for (const f of this.#workers.values()) {
      total.idle += f.containers_idle ?? 0;
      total.busy += f.containers_busy ?? 0;
      total.starting += f.containers_starting ?? 0;
    }
    return total;
  }

  /** The text `/metrics` serves. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
