import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { Counter, Gauge, Histogram, MetricsRegistry } from "./_prom_text.ts";

Deno.test("MetricsRegistry renders counters, gauges and histograms in Prometheus' text format", async () => {
  const r = new MetricsRegistry();
  const calls = new Counter({
    name: "calls_total",
    help: "Calls",
    labelNames: ["fn"],
    registers: [r],
  });
  new Counter({ name: "lost_total", help: "Lost\nlines", registers: [r] });
  new Gauge({
    name: "depth",
    help: "Depth",
    labelNames: ["q"],
    registers: [r],
    collect() {
      this.reset();
      this.set({ q: 'a"b\\c' }, 3);
    },
  });
  const h = new Histogram({
    name: "secs",
    help: "Seconds",
    labelNames: ["fn"],
    buckets: [0.1, 1],
    registers: [r],
  });
  calls.inc({ fn: "f" });
  calls.inc({ fn: "f" }, 2);
  h.observe({ fn: "f" }, 0.05);
  h.observe({ fn: "f" }, 5);
  strictEqual(r.contentType, "text/plain; version=0.0.4; charset=utf-8");
  deepStrictEqual((await r.metrics()).split("\n"), [
    "# HELP calls_total Calls",
    "# TYPE calls_total counter",
    'calls_total{fn="f"} 3',
    "",
    "# HELP lost_total Lost\\nlines",
    "# TYPE lost_total counter",
    "lost_total 0",
    "",
    "# HELP depth Depth",
    "# TYPE depth gauge",
    'depth{q="a\\"b\\\\c"} 3',
    "",
    "# HELP secs Seconds",
    "# TYPE secs histogram",
    'secs_bucket{le="0.1",fn="f"} 1',
    'secs_bucket{le="1",fn="f"} 1',
    'secs_bucket{le="+Inf",fn="f"} 2',
    'secs_sum{fn="f"} 5.05',
    'secs_count{fn="f"} 2',
    "",
  ]);
});

Deno.test("Histogram.observeAll counts each value as observe does", async () => {
  const render = async (fill: (h: Histogram<"fn">) => void) => {
    const r = new MetricsRegistry();
    const h = new Histogram({
      name: "secs",
      help: "Seconds",
      labelNames: ["fn"],
      buckets: [0.1, 1, 10],
      registers: [r],
    });
    fill(h);
    return await r.metrics();
  };
  const values = [0.05, 0.1, 0.5, 1, 9, 11, 0];
  deepStrictEqual(
    await render((h) => h.observeAll({ fn: "f" }, values)),
    await render((h) => values.forEach((v) => h.observe({ fn: "f" }, v))),
  );
  strictEqual(
    (await render((h) => h.observeAll({ fn: "f" }, values))).split("\n")
      .find((l) => l.startsWith('secs_bucket{le="1"')),
    'secs_bucket{le="1",fn="f"} 5',
  );
});
