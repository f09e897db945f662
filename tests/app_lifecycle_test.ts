// End-to-end: apps end with their client (Ctrl-C, kill -9), and `app stop` reaches every worker.
import { match, ok, strictEqual } from "node:assert/strict";
import { check, CliProcess, ROOT, runCli, startServe, tempDir, writeApp } from "./_cli.ts";
import { startRedis } from "./mod.ts";
import { createClient, fromBinary } from "../proto/deps.ts";
import { ControlService, OutputSchema } from "../proto/messages.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { readTokenFile } from "../proto/token_file.ts";
import { encodeValue } from "../proto/payload.ts";

async function control<T>(
  url: string,
  fn: (c: ReturnType<typeof createClient<typeof ControlService>>) => Promise<T>,
): Promise<T> {
  // `serve` without NANO_MODAL_TOKEN requires the token it keeps for local clients.
  const { transport, close } = createRpcTransport({ baseUrl: url, token: readTokenFile() });
  try {
    return await fn(createClient(ControlService, transport));
  } finally {
    close();
  }
}

/** Every process below `pid`. */
async function descendants(pid: number): Promise<number[]> {
  const out: number[] = [];
  let frontier = [pid];
  while (frontier.length) {
    const next: number[] = [];
    for (const p of frontier) {
      const r = await new Deno.Command("pgrep", { args: ["-P", String(p)], stdout: "piped" })
        .output();
      next.push(...new TextDecoder().decode(r.stdout).split("\n").filter(Boolean).map(Number));
    }
    out.push(...next);
    frontier = next;
  }
  return out;
}

async function eventually(what: string, cond: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** An app file in a directory of its own (removed when this test file ends). */
function tempApp(source: string): Promise<string> {
  return writeApp(source);
}

const SLOW_MAP = `import { App } from "${ROOT}sdk/mod.ts";
const app = new App("slowmap");
export const nap = app.function({ timeoutMs: 120_000 }, async function nap(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});
app.localEntrypoint(async () => {
  let n = 0;
  for await (const _ of nap.map(Array.from({ length: 300 }, () => 1_500))) console.log("r", n++);
});
`;

Deno.test("SIGINT on run --server mid-map: the app stops, nothing stays queued, sandboxes go", async () => {
  // --no-spare: the test counts the server's processes, which would include an idle spare.
  const cp = await startServe([
    "--with-workers",
    "--runner",
    "deno",
    "--concurrency",
    "8",
    "--no-spare",
  ]);
  const path = await tempApp(SLOW_MAP);
  try {
    const run = new CliProcess(["run", "--server", cp.url, path]);
    await run.waitFor(/^r 0$/m, 60_000);
    const sandboxes = (await descendants(cp.proc.child.pid)).length;
    ok(sandboxes > 0, "sandboxes were running");
    const stoppedAt = Date.now();
    const code = await run.stop("SIGINT");
    strictEqual(code, 130);
    ok(Date.now() - stoppedAt < 5_000, "the run ended at once");
    const apps = await control(cp.url, (c) => c.listApps({}));
    ok(apps.apps.every((a) => a.stopped), "the app is stopped");
    const { queues } = await control(cp.url, (c) => c.getStats({}));
    strictEqual(queues.reduce((n, q) => n + q.queued, 0), 0, "nothing queued");
    await eventually(
      "the server's process tree is idle",
      async () => (await descendants(cp.proc.child.pid)).length === 0,
      5_000,
    );
  } finally {
    await cp.proc.stop();
  }
});

Deno.test("a client killed with kill -9 loses its app within the heartbeat timeout", async () => {
  const cp = await startServe(["--with-workers", "--runner", "deno"]);
  const path = await tempApp(SLOW_MAP.replace("300", "2000"));
  try {
    const run = new CliProcess(["run", "--server", cp.url, path]);
    await run.waitFor(/^r 0$/m, 60_000);
    const killedAt = Date.now();
    await run.stop("SIGKILL");
    await eventually(
      "the app stops",
      async () => (await control(cp.url, (c) => c.listApps({}))).apps.every((a) => a.stopped),
      25_000,
    );
    const tookMs = Date.now() - killedAt;
    ok(tookMs >= 10_000, `not before the timeout (${tookMs} ms)`);
    const { queues } = await control(cp.url, (c) => c.getStats({}));
    strictEqual(queues.reduce((n, q) => n + q.queued, 0), 0, "nothing queued");
  } finally {
    await cp.proc.stop();
  }
});

Deno.test("app stop through one control plane stops containers on a worker of another", async () => {
  const redis = await startRedis();
  const a = await startServe(["--redis", redis.url]);
  const b = await startServe(["--redis", redis.url]);
  const cache = await tempDir("nm-w-");
  // --no-spare: the test counts the worker's processes, which would include an idle spare.
  const worker = new CliProcess(["worker", "--server", b.url, "--runner", "deno", "--no-spare"], {
    env: { NANO_MODAL_CACHE: cache },
  });
  const path = await tempApp(`import { App } from "${ROOT}sdk/mod.ts";
const app = new App("stopme");
export const hi = app.function(function hi() { return "hi"; });
`);
  try {
    await worker.waitFor(/serving/);
    const d = await runCli(["deploy", path, "--server", a.url]);
    check(d.code === 0, "deploy", d);
    const fn = await control(
      a.url,
      (c) => c.lookupFunction({ appName: "stopme", functionName: "hi" }),
    );
    await control(
      a.url,
      (c) =>
        c.call({ functionId: fn.functionId, args: new Uint8Array(), callId: "fc-abcdefabcdef01" }),
    ).catch(() => {});
    await eventually(
      "a warm container on the worker",
      async () => (await descendants(worker.child.pid)).length > 0,
      30_000,
    );
    const stop = await runCli(["app", "stop", "stopme", "--server", a.url]);
    check(stop.code === 0, "stop", stop);
    await eventually(
      "the worker's containers stop",
      async () => (await descendants(worker.child.pid)).length === 0,
      15_000,
    );
    const call = await control(
      b.url,
      (c) => c.spawn({ functionId: fn.functionId, args: new Uint8Array() }),
    ).catch((e) => e as Error);
    match(String(call), /App "stopme" is stopped/);
  } finally {
    await worker.stop();
    await Promise.all([a.proc.stop(), b.proc.stop()]);
    await redis.stop();
  }
});

Deno.test("cancel through one control plane stops a running input on a worker of another", async () => {
  const redis = await startRedis();
  const a = await startServe(["--redis", redis.url]);
  const b = await startServe(["--redis", redis.url]);
  const cache = await tempDir("nm-w-");
  // --no-spare: the test counts the worker's processes, which would include an idle spare.
  const worker = new CliProcess(["worker", "--server", b.url, "--runner", "deno", "--no-spare"], {
    env: { NANO_MODAL_CACHE: cache },
  });
  const path = await tempApp(`import { App } from "${ROOT}sdk/mod.ts";
const app = new App("cancelme");
export const nap = app.function({ timeoutMs: 120_000 }, async function nap(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});
`);
  try {
    await worker.waitFor(/serving/);
    const d = await runCli(["deploy", path, "--server", a.url]);
    check(d.code === 0, "deploy", d);
    const fn = await control(
      a.url,
      (c) => c.lookupFunction({ appName: "cancelme", functionName: "nap" }),
    );
    const { callId } = await control(
      a.url,
      (c) => c.spawn({ functionId: fn.functionId, args: encodeValue([120_000]) }),
    );
    await eventually(
      "the input runs in a sandbox",
      async () => (await descendants(worker.child.pid)).length > 0,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const before = (await descendants(worker.child.pid)).length;
    await control(a.url, (c) => c.cancelCall({ callId }));
    const res = await control(b.url, (c) => c.awaitCall({ callId, timeoutMs: 1_000 }));
    strictEqual(fromBinary(OutputSchema, res.output).error?.name, "CancelledError");
    await eventually(
      "the worker stops the cancelled input's sandbox",
      async () => (await descendants(worker.child.pid)).length < before,
      15_000,
    );
  } finally {
    await worker.stop();
    await Promise.all([a.proc.stop(), b.proc.stop()]);
    await redis.stop();
  }
});

Deno.test("a run's app gets its first container on a worker as it is created, before any call, and loses it when the run ends", async () => {
  const server = await startServe();
  const cache = await tempDir("nm-w-");
  // --no-spare: the worker's processes are its sandboxes.
  const worker = new CliProcess(
    ["worker", "--server", server.url, "--runner", "deno", "--no-spare"],
    { env: { NANO_MODAL_CACHE: cache } },
  );
  const marker = await Deno.makeTempFile({ prefix: "nm-go-" });
  await Deno.remove(marker);
  const path = await tempApp(`import { App } from "${ROOT}sdk/mod.ts";
const app = new App("prestarted");
export const hi = app.function(function hi() { return "hi"; });
app.localEntrypoint(async () => {
  console.log("entrypoint running");
  // No call until the test says so.
  while (!(await Deno.stat(${JSON.stringify(marker)}).then(() => true, () => false))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log(await hi.remote());
});
`);
  try {
    await worker.waitFor(/serving/);
    // Its start-up probes (bubblewrap, cgroups) end.
    await eventually(
      "no process under the worker",
      async () => (await descendants(worker.child.pid)).length === 0,
      15_000,
    );
    const run = new CliProcess(["run", path, "--server", server.url]);
    await run.waitFor(/entrypoint running/);
    await eventually(
      "a sandbox on the worker before the app's first call",
      async () => (await descendants(worker.child.pid)).length > 0,
      15_000,
    );
    const before = (await descendants(worker.child.pid)).length;
    await Deno.writeTextFile(marker, "go");
    await run.waitFor(/^hi$/m);
    strictEqual(await run.exited(), 0);
    strictEqual(before > 0, true);
    await eventually(
      "the run's sandbox stopped with its app",
      async () => (await descendants(worker.child.pid)).length === 0,
      15_000,
    );
  } finally {
    await worker.stop();
    await server.proc.stop();
    await Deno.remove(cache, { recursive: true }).catch(() => {});
    await Deno.remove(marker).catch(() => {});
  }
});

Deno.test("a worker fetches a deployed app's bundle when the app is created, before any call, and starts nothing", async () => {
  const server = await startServe();
  const cache = await tempDir("nm-w-");
  // --no-spare: "starts nothing" is checked by counting the worker's processes.
  const worker = new CliProcess([
    "worker",
    "--server",
    server.url,
    "--runner",
    "deno",
    "--no-spare",
  ], {
    env: { NANO_MODAL_CACHE: cache },
  });
  const path = await tempApp(`import { App } from "${ROOT}sdk/mod.ts";
const app = new App("prefetched");
export const hi = app.function(function hi() { return "hi ${crypto.randomUUID()}"; });
`);
  const bundles = async () =>
    (await Array.fromAsync(Deno.readDir(`${cache}/bundles`)).catch(() => []))
      .filter((e) => e.name.endsWith(".js")).map((e) => e.name);
  try {
    await worker.waitFor(/serving/);
    strictEqual((await bundles()).length, 0);
    // The client bundles in a cache of its own: what appears in the worker's came from the server.
    const clientCache = await Deno.makeTempDir({ prefix: "nm-c-" });
    const d = await runCli(["deploy", path, "--server", server.url], {
      env: { NANO_MODAL_CACHE: clientCache },
    });
    check(d.code === 0, "deploy", d);
    await eventually(
      "the bundle in the worker's cache",
      async () => (await bundles()).length === 1,
      10_000,
    );
    strictEqual((await descendants(worker.child.pid)).length, 0, "no sandbox before a call");
    await Deno.remove(clientCache, { recursive: true });
  } finally {
    await worker.stop();
    await server.proc.stop();
    await Deno.remove(cache, { recursive: true }).catch(() => {});
  }
});
