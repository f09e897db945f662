// BullMQ baseline: N trivial jobs through one Queue and one Worker at concurrency 50.
// Usage: deno run -A bench/_bullmq_job.ts REDIS_URL N
// Runs N jobs once to warm up, resets Redis's command statistics, then times N more
// and prints {"ms": ...}, so both sides of the comparison are measured warm.
import { BullWorker, Queue } from "./deps.ts";

const [url, nArg] = Deno.args;
const n = Number(nArg);
const { hostname, port } = new URL(url);
const connection = { host: hostname, port: Number(port), maxRetriesPerRequest: null };
const queue = new Queue("bench", { connection });
let completed = 0;
let target = 0;
let done = Promise.withResolvers<void>();
const worker = new BullWorker("bench", (job) => Promise.resolve(job.data.x), {
  connection,
  concurrency: 50,
});
worker.on("completed", () => {
  if (++completed === target) done.resolve();
});

async function round(): Promise<number> {
  done = Promise.withResolvers<void>();
  target = completed + n;
  const started = performance.now();
  for (let i = 0; i < n; i += 1000) {
    await queue.addBulk(
      Array.from(
        { length: Math.min(1000, n - i) },
        (_, k) => ({ name: "echo", data: { x: i + k } }),
      ),
    );
  }
  await done.promise;
  return performance.now() - started;
}

await round();
// BullMQ's client type is an adapter interface without CONFIG; redis-cli is what the bench
// itself uses to read and reset the statistics.
const reset = await new Deno.Command("redis-cli", {
  args: ["-h", hostname, "-p", port, "CONFIG", "RESETSTAT"],
}).output();
if (!reset.success) throw new Error(`redis-cli CONFIG RESETSTAT failed on ${url}`);
const ms = await round();
await worker.close();
await queue.close();
console.log(JSON.stringify({ ms }));
Deno.exit(0);
