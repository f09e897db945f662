// End-to-end on Redis: several control planes and worker processes share one Redis,
// and no input is lost when a worker, a control plane or Redis itself goes away.
import { match, ok, strictEqual } from "node:assert/strict";
import { check, CliProcess, runCli, runDeno, startServe, tempDir } from "./_cli.ts";
import { startRedis } from "./_redis_server.ts";
import { createClient } from "../proto/deps.ts";
import { ControlService } from "../proto/messages.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { readTokenFile } from "../proto/token_file.ts";

async function stats(url: string) {
  // `serve` without NANO_MODAL_TOKEN requires the token it keeps for local clients.
  const { transport, close } = createRpcTransport({ baseUrl: url, token: readTokenFile() });
  try {
    return await createClient(ControlService, transport).getStats({});
  } finally {
    close();
  }
}

function results(stdout: string): number[] {
  return [...stdout.matchAll(/^r (\d+) (\d+) /gm)].map((m) => Number(m[1]));
}

function expectAllOnceInOrder(stdout: string, n: number): void {
  const idx = results(stdout);
  strictEqual(idx.length, n, `exactly ${n} results:\n${stdout}`);
  idx.forEach((v, i) => strictEqual(v, i, "in order"));
  match(stdout, new RegExp(`^done ${n}$`, "m"));
}

async function startWorker(url: string, name: string) {
  const cache = await tempDir(`nm-${name}-`);
  const proc = new CliProcess(
    ["worker", "--server", url, "--runner", "deno", "--concurrency", "8"],
    {
      env: { NANO_MODAL_CACHE: cache },
    },
  );
  await proc.waitFor(/serving/);
  // "serving" is printed before the worker connects: wait until the control plane knows it.
  const id = proc.stderr.match(/worker (\S+): serving/)![1];
  for (let i = 0; i < 200; i++) {
    if ((await stats(url)).workers.some((w) => w.workerId === id)) return { proc, cache };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`worker ${id} never registered:\n${proc.stderr}`);
}

Deno.test("two control planes share one Redis; a map fans out across all workers; spawn on one, get on the other", async () => {
  const redis = await startRedis();
  const a = await startServe(["--redis", redis.url]);
  const b = await startServe(["--redis", redis.url]);
  const w1 = await startWorker(a.url, "w1");
  const w2 = await startWorker(b.url, "w2");
  try {
    match(a.proc.stderr, /redis store/);
    const r = await runCli(["run", "--server", a.url, "tests/fixtures/fanout.ts", "--", "40"]);
    check(r.code === 0, "map exit 0", r);
    expectAllOnceInOrder(r.stdout, 40);
    ok(r.stdout.includes(w1.cache), "worker 1 ran inputs");
    ok(r.stdout.includes(w2.cache), "worker 2 ran inputs");

    const spawned = await runCli(["run", "--server", a.url, "tests/fixtures/spawn_only.ts"]);
    check(spawned.code === 0, "spawn exit 0", spawned);
    const id = spawned.stdout.match(/^id (fc-\S+)$/m)?.[1];
    ok(id, spawned.stdout);
    const fetched = await runDeno(["run", "-A", "tests/fixtures/fetch_call.ts", id!], {
      env: { NANO_MODAL_SERVER: b.url },
    });
    check(fetched.code === 0, "fetch exit 0", fetched);
    strictEqual(fetched.stdout, "result 42\n");
  } finally {
    await Promise.all([w1.proc.stop(), w2.proc.stop()]);
    await Promise.all([a.proc.stop(), b.proc.stop()]);
    await redis.stop();
  }
});

Deno.test("kill -9 of a worker in the middle of a map: every result still arrives, once, in order", async () => {
  const redis = await startRedis();
  const cp = await startServe(["--redis", redis.url]);
  const w1 = await startWorker(cp.url, "victim");
  const w2 = await startWorker(cp.url, "survivor");
  const run = new CliProcess(["run", "--server", cp.url, "tests/fixtures/fanout.ts", "--", "60"]);
  try {
    await run.waitFor(/^r 5 /m);
    strictEqual(await w1.proc.stop("SIGKILL"), 137);
    strictEqual(await run.exited(), 0, run.stderr);
    expectAllOnceInOrder(run.stdout, 60);
    ok(run.stdout.includes(w2.cache), "the surviving worker took over");
  } finally {
    await run.stop("SIGKILL");
    await w2.proc.stop();
    await cp.proc.stop();
    await redis.stop();
  }
});

Deno.test("SIGTERM drains a worker: its inputs in hand finish, it takes no new ones, and exits 0", async () => {
  const redis = await startRedis();
  const cp = await startServe(["--redis", redis.url]);
  const w1 = await startWorker(cp.url, "drained");
  const run = new CliProcess(["run", "--server", cp.url, "tests/fixtures/fanout.ts", "--", "40"]);
  try {
    await run.waitFor(/^r 3 /m);
    w1.proc.child.kill("SIGTERM");
    await w1.proc.waitFor(/draining/);
    strictEqual(await w1.proc.exited(), 0, w1.proc.stderr);
    const before = results(run.stdout).length;
    // Nothing runs the rest until a new worker arrives; nothing was lost either.
    const w2 = await startWorker(cp.url, "fresh");
    try {
      strictEqual(await run.exited(), 0, run.stderr);
      expectAllOnceInOrder(run.stdout, 40);
      ok(before >= 4, "the drained worker finished what it held");
      const reruns = [...run.stdout.matchAll(/^\[slow\] running (\d+)$/gm)].map((m) => m[1]);
      strictEqual(new Set(reruns).size, reruns.length, "no input ran twice");
    } finally {
      await w2.proc.stop();
    }
  } finally {
    await run.stop("SIGKILL");
    await cp.proc.stop();
    await redis.stop();
  }
});

Deno.test("restarting the control plane in the middle of a map: client and worker reconnect and the map completes", async () => {
  const redis = await startRedis();
  const cp = await startServe(["--redis", redis.url]);
  const port = new URL(cp.url).port;
  const w1 = await startWorker(cp.url, "steady");
  const run = new CliProcess(["run", "--server", cp.url, "tests/fixtures/fanout.ts", "--", "60"]);
  let cp2: CliProcess | undefined;
  try {
    await run.waitFor(/^r 5 /m);
    await cp.proc.stop("SIGKILL");
    await new Promise((r) => setTimeout(r, 300));
    cp2 = new CliProcess(["serve", "--port", port, "--redis", redis.url]);
    await cp2.waitFor(/listening on/);
    strictEqual(await run.exited(), 0, run.stderr);
    expectAllOnceInOrder(run.stdout, 60);
  } finally {
    await run.stop("SIGKILL");
    await w1.proc.stop();
    await cp2?.stop();
    await redis.stop();
  }
});

Deno.test("Redis with append-only persistence restarted while inputs are queued: they survive and run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-aof-" });
  let redis = await startRedis({ appendonly: true, dir });
  const port = redis.port;
  const cp = await startServe(["--redis", redis.url]);
  const run = new CliProcess(["run", "--server", cp.url, "tests/fixtures/fanout.ts", "--", "30"]);
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    // No worker yet: the inputs wait in Redis while it restarts.
    for (let i = 0; i < 100; i++) {
      const queued = (await stats(cp.url)).queues.find((q) => q.functionName === "slow")?.queued;
      if (queued === 30) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = await stats(cp.url);
    strictEqual(before.queues.find((q) => q.functionName === "slow")?.queued, 30, "queue depth");
    strictEqual(before.workers.length, 0);
    await redis.stop();
    redis = await startRedis({ appendonly: true, dir, port });
    worker = await startWorker(cp.url, "after-restart");
    let after = await stats(cp.url);
    for (let i = 0; i < 50 && after.workers.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await stats(cp.url);
    }
    strictEqual(after.workers.length, 1, "the worker registered");
    strictEqual(after.workers[0].capacity, 8);
    strictEqual(await run.exited(), 0, run.stderr);
    expectAllOnceInOrder(run.stdout, 30);
  } finally {
    await run.stop("SIGKILL");
    await worker?.proc.stop();
    await cp.proc.stop();
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Redis going away mid-map: clients and workers retry with backoff and the map completes when it returns", async () => {
  const dir = await tempDir("nm-outage-");
  let redis = await startRedis({ appendonly: true, dir });
  const port = redis.port;
  const cp = await startServe(["--redis", redis.url]);
  const worker = await startWorker(cp.url, "outage");
  const run = new CliProcess(["run", "--server", cp.url, "tests/fixtures/fanout.ts", "--", "60"]);
  try {
    await run.waitFor(/^r 5 /m);
    await redis.kill();
    await new Promise((r) => setTimeout(r, 2_000));
    redis = await startRedis({ appendonly: true, dir, port });
    strictEqual(await run.exited(), 0, run.stderr);
    expectAllOnceInOrder(run.stdout, 60);
    match(cp.proc.stderr, /lost Redis at .*reconnect/i);
  } finally {
    await run.stop("SIGKILL");
    await worker.proc.stop();
    await cp.proc.stop();
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve --redis with Redis unreachable is one clear line", async () => {
  const r = await runCli(["serve", "--port", "0", "--redis", "redis://127.0.0.1:9"]);
  strictEqual(r.code, 1);
  const lines = r.stderr.trim().split("\n");
  strictEqual(lines.length, 1, r.stderr);
  match(lines[0], /^error: .*Redis.*127\.0\.0\.1:9/);
  // One behaviour, said: it stops (rather than promising to reconnect and then exiting).
  match(lines[0], /serve did not start; start Redis \(or fix --redis\), then start serve again$/);
  ok(!/reconnects/.test(lines[0]), lines[0]);
});
