// BullMQ baseline: N trivial jobs through one Queue and one Worker at concurrency 50.
// Usage: deno run -A bench/_bullmq_job.ts REDIS_URL N [ROUNDS]
// Runs N jobs once to warm up, resets Redis's command statistics, then times ROUNDS (1) rounds
// of N more and prints {"ms": [...], "cpuS", "redisS"} (a time per round, and the CPU seconds of
// this process and of Redis over them), so both sides of the comparison are measured warm.
import process from "node:process";
import { BullWorker, Queue } from "./deps.ts";

const [url, nArg, roundsArg] = Deno.args;
const n = Number(nArg);
const rounds = Number(roundsArg ?? 1);
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

/** Runs redis-cli on the benchmark's Redis and returns what it printed. */
async function redisCli(...args: string[]): Promise<string> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-h", hostname, "-p", port, ...args],
    stdout: "piped",
  }).output();
  if (!out.success) throw new Error(`redis-cli ${args.join(" ")} failed on ${url}`);
  return new TextDecoder().decode(out.stdout);
}

/** Redis's CPU seconds so far (user + system). */
async function redisCpu(): Promise<number> {
  const text = await redisCli("INFO", "cpu");
  const field = (name: string) => Number(text.match(new RegExp(`^${name}:([\\d.]+)`, "m"))?.[1]);
  return field("used_cpu_user") + field("used_cpu_sys");
}

await round();
// BullMQ's client type is an adapter interface without CONFIG or INFO; redis-cli is what the
// bench itself uses to read and reset the statistics.
await redisCli("CONFIG", "RESETSTAT");
const redis0 = await redisCpu();
const cpu0 = process.cpuUsage();
const ms: number[] = [];
for (let r = 0; r < rounds; r++) ms.push(await round());
const cpu = process.cpuUsage(cpu0);
const redisS = await redisCpu() - redis0;
await worker.close();
await queue.close();
// CPU of the measured rounds: this process (queue and worker) and Redis.
console.log(JSON.stringify({ ms, cpuS: (cpu.user + cpu.system) / 1e6, redisS }));
Deno.exit(0);
