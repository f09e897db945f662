// The app the default-options benchmarks run: functions with NO options at all.
// `-- map N [R]`: R maps of N trivial inputs, prints {"ms": [...]} (one per map).
// `-- warm N`: N warm `.remote()` calls, prints {"warm": [...]}.
// `-- cpu N`: a map of N 20 ms CPU-bound inputs and the same N run serially here, prints ms of each.
import { App } from "@nano/modal";

const app = new App("defaults-bench");

export const echo = app.function(function echo(x: number) {
  return x;
});

/** A fixed amount of CPU work: `n` rounds of an integer hash (work, not wall time, so
 * oversubscribed cores show up as a longer run). */
export const burn = app.function(function burn(n: number) {
  let h = 2166136261;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ i, 16777619);
  return h;
});

/** Rounds of `burn` that take about 20 ms on this machine, on one core. */
async function calibrate(): Promise<number> {
  let n = 1_000_000;
  for (let i = 0; i < 3; i++) await burn.local(n); // JIT warm-up
  const t = performance.now();
  await burn.local(n);
  n = Math.round((n * 20) / (performance.now() - t));
  return n;
}

app.localEntrypoint(async (args) => {
  const [mode, nArg, rArg] = args;
  const n = Number(nArg);
  if (mode === "map") {
    const inputs = Array.from({ length: n }, (_, i) => i);
    const times: number[] = [];
    for (let r = 0; r < Number(rArg ?? 1); r++) {
      const t = performance.now();
      let count = 0;
      for await (const _ of echo.map(inputs)) count++;
      if (count !== n) throw new Error(`expected ${n} results, got ${count}`);
      times.push(performance.now() - t);
      console.log(JSON.stringify({ round: r, ms: times.at(-1) }));
    }
    console.log(JSON.stringify({ ms: times }));
  } else if (mode === "warm") {
    for (let i = 0; i < 200; i++) await echo.remote(i);
    const warm: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await echo.remote(i);
      warm.push(performance.now() - t);
    }
    console.log(JSON.stringify({ warm }));
  } else if (mode === "cpu") {
    const rounds = await calibrate();
    await burn.remote(rounds);
    let t = performance.now();
    for await (const _ of burn.map(Array.from({ length: n }, () => rounds))) { /* drain */ }
    const parallelMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < n; i++) await burn.local(rounds);
    const serialMs = performance.now() - t;
    console.log(JSON.stringify({ parallelMs, serialMs }));
  } else {
    throw new Error(`unknown mode ${mode}: use map, warm or cpu`);
  }
});
