// The app the default-options benchmarks run: functions with NO options at all.
// `-- map N [R]`: R maps of N trivial inputs, prints {"ms": [...], "cpuS"} (a time per map, and
// this client's CPU seconds over them all).
// `-- warm N [FLOOR_URL]`: N warm `.remote()` calls, prints {"warm": [...], "floor": [...]}; with
// FLOOR_URL, a fetch of it before each call (the loopback floor, at the same moments).
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
    // With a floor URL (the third argument), a loopback fetch to it before each call: the floor
    // measured in the same process at the same moments as the calls.
    const floorUrl = rArg;
    const fetchFloor = async () => await (await fetch(floorUrl!)).text();
    for (let i = 0; i < 200; i++) {
      await echo.remote(i);
      if (floorUrl) await fetchFloor();
    }
    const warm: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < n; i++) {
      if (floorUrl) {
        const f = performance.now();
        await fetchFloor();
        floor.push(performance.now() - f);
      }
      const t = performance.now();
      await echo.remote(i);
      warm.push(performance.now() - t);
    }
    console.log(JSON.stringify({ warm, floor }));
  } else {
    throw new Error(`unknown mode ${mode}: use map or warm (CPU-bound work: bench/_cpu_app.ts)`);
  }
});
