// BullMQ baseline: N trivial jobs through one Queue and one Worker at concurrency 50.
// Usage: deno run -A bench/_bullmq_job.ts REDIS_URL N; prints {"ms": ...} when all completed.
import { BullWorker, Queue } from "./deps.ts";

const [url, nArg] = Deno.args;
const n = Number(nArg);
const { hostname, port } = new URL(url);
const connection = { host: hostname, port: Number(port), maxRetriesPerRequest: null };
const queue = new Queue("bench", { connection });
let completed = 0;
const done = Promise.withResolvers<void>();
const worker = new BullWorker("bench", (job) => Promise.resolve(job.data.x), {
  connection,
  concurrency: 50,
  autorun: false,
});
worker.on("completed", () => {
  if (++completed === n) done.resolve();
});
const started = performance.now();
worker.run();
for (let i = 0; i < n; i += 1000) {
  await queue.addBulk(
    Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ name: "echo", data: { x: i + k } })),
  );
}
await done.promise;
const ms = performance.now() - started;
await worker.close();
await queue.close();
console.log(JSON.stringify({ ms }));
Deno.exit(0);
