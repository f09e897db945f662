// End-to-end: resource-aware placement is on by default. A worker never starts more
// `cpu: 1` sandboxes of one function than it has cores (`worker --cpu N` overrides what it
// detects), and inputs that wait on nested calls still progress on a full worker.
import { match, ok, strictEqual } from "node:assert/strict";
import { check, CliProcess, ROOT, runCli, startServe, writeApp } from "./_cli.ts";

const APP = `import { App } from "${ROOT}sdk/mod.ts";
const app = new App("placement");
const sandbox = crypto.randomUUID();
// Default options: cpu 1, concurrency 1, maxContainers 16.
export const busy = app.function(function busy(ms: number) {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a core's worth of work */ }
  return sandbox;
});
export const down = app.function(async function countdown(n: number): Promise<number> {
  return n === 0 ? 0 : 1 + (await down.remote(n - 1));
});
app.localEntrypoint(async (args) => {
  if (args[0] === "busy") {
    const seen = new Set<string>();
    for await (const s of busy.map(Array.from({ length: 16 }, () => 200))) seen.add(s);
    console.log("sandboxes " + seen.size);
  } else {
    console.log("depth " + (await down.remote(Number(args[1]))));
  }
});
`;

async function withWorker(
  flags: string[],
  body: (url: string, app: string) => Promise<void>,
): Promise<void> {
  const { proc: serve, url } = await startServe();
  const cache = await Deno.makeTempDir({ prefix: "nm-place-worker-" });
  const worker = new CliProcess(
    ["worker", "--server", url, "--runner", "deno", ...flags],
    { env: { NANO_MODAL_CACHE: cache } },
  );
  try {
    await worker.waitFor(/serving/);
    await body(url, await writeApp(APP));
  } finally {
    await worker.stop();
    await serve.stop();
    await Deno.remove(cache, { recursive: true }).catch(() => {});
  }
}

const run = (url: string, app: string, ...args: string[]) =>
  runCli(["run", "--server", url, app, "--", ...args], { timeoutMs: 120_000 });

Deno.test("a worker with --cpu 1 runs 16 busy cpu-1 inputs in one sandbox; with --cpu 3 in at most 3", async () => {
  await withWorker(["--cpu", "1"], async (url, app) => {
    const r = await run(url, app, "busy");
    check(r.code === 0, "busy map on --cpu 1", r);
    match(r.stdout, /sandboxes 1\n/, "one core: one sandbox, never 16");
  });
  await withWorker(["--cpu", "3"], async (url, app) => {
    const r = await run(url, app, "busy");
    check(r.code === 0, "busy map on --cpu 3", r);
    const n = Number(r.stdout.match(/sandboxes (\d+)/)?.[1]);
    ok(n >= 2 && n <= 3, `scaled up within 3 cores (${n} sandboxes)`);
  });
});

Deno.test("recursive nested calls six deep complete on a one-core worker (waiting sandboxes give their core back)", async () => {
  await withWorker(["--cpu", "1"], async (url, app) => {
    const r = await run(url, app, "down", "6");
    check(r.code === 0, "countdown", r);
    match(r.stdout, /depth 6\n/);
  });
});

Deno.test("worker --cpu and --memory-mib refuse what is not a size, in one line", async () => {
  let r = await runCli(["worker", "--server", "http://127.0.0.1:9", "--cpu", "0"]);
  strictEqual(r.code, 1, r.stderr);
  match(r.stderr, /--cpu must be a number of cores above 0/);
  r = await runCli(["worker", "--server", "http://127.0.0.1:9", "--memory-mib", "lots"]);
  match(r.stderr, /--memory-mib must be a whole number/);
  ok(!/\n\s+at /.test(r.stderr), "no stack trace");
});
