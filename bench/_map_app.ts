// A map of N trivial inputs, for throughput benchmarks. Prints {"ms": ...} for the map.
import { App } from "@nano/modal";

const app = new App("map-bench");

export const echo = app.function({ concurrency: 1000 }, function echo(x: number) {
  return x;
});

app.localEntrypoint(async (args) => {
  const n = Number(args[0] ?? 20_000);
  const inputs = Array.from({ length: n }, (_, i) => i);
  const started = performance.now();
  let count = 0;
  for await (const _ of echo.map(inputs)) count++;
  if (count !== n) throw new Error(`expected ${n} results, got ${count}`);
  console.log(JSON.stringify({ ms: performance.now() - started }));
});
