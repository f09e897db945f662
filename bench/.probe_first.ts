import { App } from "@nano/modal";
const app = new App("probe-first");
export const echo = app.function(function echo(x: number) {
  return x;
});
app.localEntrypoint(async (args) => {
  const n = Number(args[0] ?? 20000);
  const inputs = Array.from({ length: n }, (_, i) => i);
  const t = performance.now();
  let count = 0;
  const marks: number[] = [];
  for await (const _ of echo.map(inputs)) {
    count++;
    if (count === 1 || count % 2000 === 0) marks.push(Math.round(performance.now() - t));
  }
  console.log(JSON.stringify({ total: Math.round(performance.now() - t), marks }));
});

// tag 8083
