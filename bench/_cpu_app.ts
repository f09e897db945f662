// The app of the CPU-bound benchmark (issue 14): one function with NO options at all.
// `-- N`: N inputs of a fixed amount of CPU work (about 20 ms on one core here) through
// `.map`, between two halves of the same N run serially with `.local()` in this process.
// Prints one JSON line: wall times (also of the same work on two plain threads here: the
// ceiling under the current load), the work's time inside the sandboxes, sandboxes used.
import { App } from "@nano/modal";

const app = new App("cpu-bench");
/** Made once per sandbox (each imports the module once): tells sandboxes apart. */
const sandbox = crypto.randomUUID().slice(0, 8);

/**
 * A fixed amount of CPU work: `n` rounds of an integer hash. Work, not wall time, so
 * oversubscribed cores show as longer runs. Returns where it ran and how long it took there.
 */
export const burn = app.function(function burn(n: number) {
  const t = performance.now();
  let h = 2166136261;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ i, 16777619);
  return { h, ms: performance.now() - t, sandbox };
});

/** Rounds of `burn` that take 20 ms on one core here (the fastest of several tries). */
async function calibrate(): Promise<number> {
  const n = 1_000_000;
  for (let i = 0; i < 3; i++) await burn.local(n); // JIT warm-up
  let best = Infinity;
  for (let i = 0; i < 7; i++) best = Math.min(best, (await burn.local(n)).ms);
  return Math.round((n * 20) / best);
}

async function serial(rounds: number, count: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < count; i++) await burn.local(rounds);
  return performance.now() - t;
}

/**
 * What this machine gives two threads right now: the same work split over two plain
 * workers in this process, no platform in between (the ceiling under the current load).
 */
async function twoThreads(rounds: number, count: number): Promise<number> {
  const code = `onmessage = (e) => {
    const [rounds, count] = e.data;
    for (let c = 0; c < count; c++) {
      let h = 2166136261;
      for (let i = 0; i < rounds; i++) h = Math.imul(h ^ i, 16777619);
    }
    postMessage(0);
  };`;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const t = performance.now();
  await Promise.all([Math.floor(count / 2), count - Math.floor(count / 2)].map((share) => {
    const w = new Worker(url, { type: "module" });
    return new Promise<void>((done) => {
      w.onmessage = () => (w.terminate(), done());
      w.postMessage([rounds, share]);
    });
  }));
  return performance.now() - t;
}

app.localEntrypoint(async (args) => {
  const n = Number(args[0] ?? 200);
  const rounds = await calibrate();
  await burn.remote(rounds); // the first sandbox is warm, as in a running app
  const before = await serial(rounds, Math.floor(n / 2));
  const threadsMs = await twoThreads(rounds, n);
  const t = performance.now();
  const sandboxes = new Set<string>();
  let inSandboxMs = 0;
  for await (const r of burn.map(Array.from({ length: n }, () => rounds))) {
    sandboxes.add(r.sandbox);
    inSandboxMs += r.ms;
  }
  const parallelMs = performance.now() - t;
  const after = await serial(rounds, n - Math.floor(n / 2));
  console.log(JSON.stringify({
    parallelMs,
    serialMs: before + after,
    threadsMs,
    meanInSandboxMs: inSandboxMs / n,
    sandboxes: sandboxes.size,
  }));
});
