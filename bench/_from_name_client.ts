// A plain script (no App, no `nano-modal run`): warm `.remote()` calls to a deployed
// function through RemoteFunction.fromName. Prints one JSON line of samples.
import { RemoteFunction } from "@nano/modal";

const [appName, calls] = [Deno.args[0], Number(Deno.args[1] ?? 2000)];
const echo = RemoteFunction.fromName<(x: number) => number>(appName, "echo");
for (let i = 0; i < 200; i++) await echo.remote(i);
const warm: number[] = [];
for (let i = 0; i < calls; i++) {
  const t = performance.now();
  await echo.remote(i);
  warm.push(performance.now() - t);
}
console.log(JSON.stringify({ warm }));
