// End-to-end: web endpoints (tests/fixtures/web_app.ts, deno runner) served each way a request
// can travel: straight to a worker in the server's process, straight to a worker process over
// its HTTP/2 web stream, and queued, through a control plane with no worker of its own on a
// Redis that another control plane's worker serves. The checks are in _web_steps.ts.
import { ok } from "node:assert/strict";
import { CliProcess, ROOT, startServe } from "./_cli.ts";
import { startRedis } from "./mod.ts";
import { TOKEN, webSteps } from "./_web_steps.ts";

const env = { NANO_MODAL_TOKEN: TOKEN };
const APP = `${ROOT}tests/fixtures/web_app.ts`;

/** Runs the app against `server` and the steps against it. */
async function serveApp(t: Deno.TestContext, server: string, slowReader = false) {
  const run = new CliProcess(["run", "--server", server, APP], { env });
  try {
    await run.waitFor(/api: http/, 60_000);
    const stop = async () => void await run.stop("SIGINT");
    await webSteps(t, `${server}/web/webapp`, { stop, slowReader });
  } finally {
    await run.stop("SIGINT");
  }
}

/** How many requests `server` sent straight to a worker, from its /metrics. */
async function directRequests(server: string): Promise<number> {
  const res = await fetch(`${server}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const m = (await res.text()).match(/^nano_modal_web_direct_requests_total (\d+)/m);
  return Number(m?.[1] ?? 0);
}

Deno.test("web endpoints, direct to a worker in the server's process", async (t) => {
  const { proc, url } = await startServe(["--with-workers", "1", "--runner", "deno"], { env });
  try {
    await serveApp(t, url, true);
    ok(await directRequests(url) > 10, "requests went straight to the worker");
  } finally {
    await proc.stop();
  }
});

Deno.test("web endpoints, direct to a worker process over its web stream", async (t) => {
  const { proc, url } = await startServe([], { env });
  const worker = new CliProcess(["worker", "--server", url, "--runner", "deno"], { env });
  try {
    await worker.waitFor(/serving/, 60_000);
    await serveApp(t, url);
    ok(await directRequests(url) > 10, "requests went over the worker's web stream");
  } finally {
    await worker.stop();
    await proc.stop();
  }
});

Deno.test("web endpoints, queued through a control plane with no worker of its own (Redis)", async (t) => {
  const redis = await startRedis();
  const front = await startServe(["--redis", redis.url], { env });
  const back = await startServe(["--redis", redis.url, "--with-workers", "1", "--runner", "deno"], {
    env,
  });
  try {
    await serveApp(t, front.url);
    ok(await directRequests(front.url) === 0, "the front control plane queued every request");
  } finally {
    await back.proc.stop();
    await front.proc.stop();
    await redis.stop();
  }
});
