// The app the default-options benchmarks run: functions with NO options at all.
// `-- map N [R]`: R maps of N trivial inputs, prints {"ms": [...], "cpuS"} (a time per map, and
// this client's CPU seconds over them all).
// `-- warm N`: N warm `.remote()` calls, prints {"warm": [...]}.
import process from "node:process";
import { App } from "@nano/modal";

const app = new App("defaults-bench");

export const echo = app.function(function echo(x: number) {
  return x;
});

app.localEntrypoint(async (args) => {
  const [mode, nArg, rArg] = args;
  const n = Number(nArg);
  if (mode === "map") {
    const inputs = Array.from({ length: n }, (_, i) => i);
    const times: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let r = 0; r < Number(rArg ?? 1); r++) {
      const t = performance.now();
      let count = 0;
      for await (const _ of echo.map(inputs)) count++;
      if (count !== n) throw new Error(`expected ${n} results, got ${count}`);
      times.push(performance.now() - t);
      console.log(JSON.stringify({ round: r, ms: times.at(-1) }));
    }
    // This client's CPU over the maps (seconds), for the benchmarks' CPU per input.
    const cpu = process.cpuUsage(cpu0);
    console.log(JSON.stringify({ ms: times, cpuS: (cpu.user + cpu.system) / 1e6 }));
  } else if (mode === "warm") {
    for (let i = 0; i < 200; i++) await echo.remote(i);
    const warm: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await echo.remote(i);
      warm.push(performance.now() - t);
    }
    console.log(JSON.stringify({ warm }));
  } else {
    throw new Error(`unknown mode ${mode}: use map or warm (CPU-bound work: bench/_cpu_app.ts)`);
  }
});
