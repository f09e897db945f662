/**
 * Finished calls counted between two flushes of the metrics, per function
 * and status: a map's outputs arrive by the hundred per message, and each
 * labelled counter increment costs a label hash. The metrics take one
 * increment per function and status per flush instead, and its durations
 * in one go (each still goes to its histogram bucket).
 * @module
 */

/** What one flush hands the metrics. */
export interface TallySink<L> {
  /** `count` more calls of this function ended with `status`. */
  calls(labels: L, status: string, count: number): void;
  /** Calls of this function ran these `seconds`, one figure each. */
  durations(labels: L, seconds: number[]): void;
  /** Result bytes received. */
  bytes(total: number): void;
}

interface Entry {
  statuses: Map<string, number>;
  seconds: number[];
}

/** Calls finished since the last flush, by labels object (the observer reuses one per function). */
export class CallTally<L extends object> {
  readonly #sink: TallySink<L>;
  #entries = new Map<L, Entry>();
  #bytes = 0;
  #scheduled = false;

  /** Flushes to `sink` at the end of the current task, or when {@linkcode flush} is called. */
  constructor(sink: TallySink<L>) {
    this.#sink = sink;
  }

  /** Counts one finished call. */
  add(labels: L, status: string, durationMs: number, bytes: number): void {
    let e = this.#entries.get(labels);
    if (!e) this.#entries.set(labels, e = { statuses: new Map(), seconds: [] });
    e.statuses.set(status, (e.statuses.get(status) ?? 0) + 1);
    if (durationMs > 0) e.seconds.push(durationMs / 1000);
    this.#bytes += bytes;
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.flush());
  }

  /** Hands everything counted so far to the sink (before the metrics are read, too). */
  flush(): void {
    this.#scheduled = false;
    const entries = this.#entries;
    if (entries.size === 0 && this.#bytes === 0) return;
    this.#entries = new Map();
    for (const [labels, e] of entries) {
      for (const [status, count] of e.statuses) this.#sink.calls(labels, status, count);
      if (e.seconds.length) this.#sink.durations(labels, e.seconds);
    }
    const bytes = this.#bytes;
    this.#bytes = 0;
    this.#sink.bytes(bytes);
  }
}
