// The app the benchmarks run through the real CLI. Prints one JSON line of measurements.
import { App } from "@nano/modal";

const app = new App("bench");

export const echo = app.function({ concurrency: 64 }, function echo(x: number) {
  return x;
});

app.localEntrypoint(async (args) => {
  const warmCalls = Number(args[0] ?? 2000);
  const mapInputs = Number(args[1] ?? 20000);
  // With a floor URL (the third argument): a loopback fetch of it before each warm call, so that
  // the floor and the calls meet the machine in the same moments.
  const floorUrl = args[2];
  let t = performance.now();
  await echo.remote(0);
  const coldMs = performance.now() - t;
  for (let i = 0; i < 200; i++) await echo.remote(i);
  const warm: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < warmCalls; i++) {
    if (floorUrl) {
      t = performance.now();
      await (await fetch(floorUrl)).text();
      floor.push(performance.now() - t);
    }
    t = performance.now();
    await echo.remote(i);
    warm.push(performance.now() - t);
  }
  const inputs = Array.from({ length: mapInputs }, (_, i) => i);
  for await (const _ of echo.map(inputs.slice(0, 2000))) { /* warm the map path */ }
  t = performance.now();
  let n = 0;
  for await (const _ of echo.map(inputs)) n++;
  const mapMs = performance.now() - t;
  console.log(JSON.stringify({ coldMs, warm, floor, mapMs, mapCount: n }));
});
