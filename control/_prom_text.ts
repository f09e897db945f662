/**
 * The few Prometheus metric kinds the control plane keeps (`_metrics.ts`),
 * rendered in Prometheus' text format (version 0.0.4) the way prom-client
 * renders them. prom-client itself took ~50 ms of CPU to load (it and its
 * dependencies are CommonJS), on every start of a control plane, including
 * the embedded one of each `nano-modal run`; these ~120 lines do what we
 * used of it.
 * @module
 */

/** Label values by label name. */
type Labels<T extends string> = Partial<Record<T, string>>;

/** What every metric kind has in common. */
interface Family {
  /** The family's lines, without a trailing newline. */
  render(): Promise<string>;
}

/** A set of metrics rendered together (`GET /metrics`). */
export class MetricsRegistry {
  /** The content type of {@linkcode MetricsRegistry.metrics}'s text. */
  readonly contentType = "text/plain; version=0.0.4; charset=utf-8";
  readonly #families: Family[] = [];

  /** Adds a family; it renders in the order added. */
  register(family: Family): void {
    this.#families.push(family);
  }

  /** All families in the text format. */
  async metrics(): Promise<string> {
    const parts = await Promise.all(this.#families.map((f) => f.render()));
    return `${parts.join("\n\n")}\n`;
  }
}

/** What a metric is created with (the subset of prom-client's options we use). */
export interface MetricOptions<T extends string> {
  name: string;
  help: string;
  labelNames?: readonly T[];
  registers: MetricsRegistry[];
  /** Called before each render (counts tallied elsewhere are handed over then). */
  beforeRender?: () => void;
}

function escapeText(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "Nan";
  if (!Number.isFinite(v)) return v < 0 ? "-Inf" : "+Inf";
  return `${v}`;
}

function formatLabels(labels: Record<string, string | number>): string {
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}="${typeof v === "string" ? escapeText(v).replace(/"/g, '\\"') : v}"`
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** Values by label set: the shared part of counters and gauges. */
abstract class Valued<T extends string> implements Family {
  protected values = new Map<string, { labels: Labels<T>; value: number }>();
  readonly #header: string;
  readonly #name: string;
  readonly #labelNames: readonly T[];
  readonly #beforeRender?: () => void;

  constructor(type: string, options: MetricOptions<T>) {
    this.#name = options.name;
    this.#beforeRender = options.beforeRender;
    this.#labelNames = options.labelNames ?? [];
    this.#header = `# HELP ${escapeText(options.name)} ${escapeText(options.help)}\n` +
      `# TYPE ${escapeText(options.name)} ${type}`;
    this.reset();
    for (const r of options.registers) r.register(this);
  }

  /** Forgets every label set (an unlabelled metric goes back to 0). */
  reset(): void {
    this.values.clear();
    if (this.#labelNames.length === 0) this.values.set("", { labels: {}, value: 0 });
  }

  protected entry(labels: Labels<T>): { labels: Labels<T>; value: number } {
    const key = this.#labelNames.map((n) => labels[n] ?? "").join("\0");
    let found = this.values.get(key);
    if (!found) this.values.set(key, found = { labels: { ...labels }, value: 0 });
    return found;
  }

  /** Refreshes values before rendering (gauges read at scrape time). */
  protected collect(): void | Promise<void> {}

  async render(): Promise<string> {
    this.#beforeRender?.();
    await this.collect();
    const lines = [this.#header];
    for (const { labels, value } of this.values.values()) {
      lines.push(
        `${this.#name}${formatLabels(labels as Record<string, string>)} ${formatValue(value)}`,
      );
    }
    return lines.join("\n");
  }
}

/** A running total. */
export class Counter<T extends string = string> extends Valued<T> {
  /** A counter registered in `options.registers`. */
  constructor(options: MetricOptions<T>) {
    super("counter", options);
  }

  /** Adds `value` (default 1), to the series of `labels` if given. */
  inc(labels?: Labels<T> | number, value = 1): void {
    if (typeof labels === "number") [labels, value] = [{}, labels];
    this.entry(labels ?? {}).value += value;
  }
}

/** A value set at will, or read at scrape time by `collect`. */
export class Gauge<T extends string = string> extends Valued<T> {
  readonly #collect?: (this: Gauge<T>) => void | Promise<void>;

  /** A gauge; `collect` (called with the gauge as `this`) refreshes it at each scrape. */
  constructor(options: MetricOptions<T> & { collect?: (this: Gauge<T>) => void | Promise<void> }) {
    super("gauge", options);
    this.#collect = options.collect;
  }

  /** Sets the value of the series of `labels` (or of the unlabelled series). */
  set(labels: Labels<T> | number, value?: number): void {
    if (typeof labels === "number") this.entry({}).value = labels;
    else this.entry(labels).value = value ?? 0;
  }

  protected override collect(): void | Promise<void> {
    return this.#collect?.call(this);
  }
}

/** Observations counted in cumulative buckets, with their sum and count. */
export class Histogram<T extends string = string> implements Family {
  readonly #name: string;
  readonly #header: string;
  readonly #buckets: number[];
  readonly #series = new Map<
    string,
    { labels: Labels<T>; counts: number[]; sum: number; count: number }
  >();
  readonly #labelNames: readonly T[];
  readonly #beforeRender?: () => void;

  /** A histogram with `options.buckets` as upper bounds. */
  constructor(options: MetricOptions<T> & { buckets: number[] }) {
    this.#name = options.name;
    this.#beforeRender = options.beforeRender;
    this.#labelNames = options.labelNames ?? [];
    this.#buckets = [...options.buckets].sort((a, b) => a - b);
    this.#header = `# HELP ${escapeText(options.name)} ${escapeText(options.help)}\n` +
      `# TYPE ${escapeText(options.name)} histogram`;
    for (const r of options.registers) r.register(this);
  }

  /** Counts `value` in the series of `labels`. */
  observe(labels: Labels<T>, value: number): void {
    this.#count(this.#seriesOf(labels), value);
  }

  /** Counts each of `values` in the series of `labels` (its label set looked up once). */
  observeAll(labels: Labels<T>, values: readonly number[]): void {
    const s = this.#seriesOf(labels);
    for (const value of values) this.#count(s, value);
  }

  #seriesOf(labels: Labels<T>) {
    const key = this.#labelNames.map((n) => labels[n] ?? "").join("\0");
    let s = this.#series.get(key);
    if (!s) {
      s = { labels: { ...labels }, counts: this.#buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    return s;
  }

  #count(s: { counts: number[]; sum: number; count: number }, value: number): void {
    const buckets = this.#buckets;
    for (let i = 0; i < buckets.length; i++) {
      if (value <= buckets[i]) {
        s.counts[i]++;
        break;
      }
    }
    s.sum += value;
    s.count++; // the +Inf bucket: every observation
  }

  render(): Promise<string> {
    this.#beforeRender?.();
    const lines = [this.#header];
    for (const s of this.#series.values()) {
      const labels = s.labels as Record<string, string>;
      const count = s.count;
      let acc = 0;
      this.#buckets.forEach((le, i) => {
        acc += s.counts[i];
        lines.push(`${this.#name}_bucket${formatLabels({ le, ...labels })} ${acc}`);
      });
      lines.push(`${this.#name}_bucket${formatLabels({ le: "+Inf", ...labels })} ${count}`);
      lines.push(`${this.#name}_sum${formatLabels(labels)} ${formatValue(s.sum)}`);
      lines.push(`${this.#name}_count${formatLabels(labels)} ${count}`);
    }
    return Promise.resolve(lines.join("\n"));
  }
}
