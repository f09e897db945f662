// Fan out with `.map`: results stream back in input order as they finish.
import { App } from "@nano/modal";

const app = new App("parallel");

export const slowSquare = app.function(
  { timeoutMs: 10_000, concurrency: 4 },
  async function slowSquare(x: number): Promise<number> {
    await new Promise((r) => setTimeout(r, 100));
    return x * x;
  },
);

app.localEntrypoint(async (args) => {
  const n = Number(args[0] ?? 20);
  const started = performance.now();
  const results: number[] = [];
  for await (const y of slowSquare.map(Array.from({ length: n }, (_, i) => i))) results.push(y);
  console.log(results.join(" "));
  console.log(`${n} inputs in ${Math.round(performance.now() - started)} ms`);
});
