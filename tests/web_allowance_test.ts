// End-to-end: a web endpoint first called after its worker was told its share of the cluster
// (allowances come with heartbeats, every 5 s) still gets a container. Requests on the direct
// path never pass through the worker's work stream, so they count as its demand separately;
// before, such an endpoint waited for its timeout and answered 504.
import { strictEqual } from "node:assert/strict";
import { CliProcess, startServe, writeApp } from "./_cli.ts";

const TOKEN = "allowance-test-token-0123456789ab";
const SOURCE = `import { App } from "@nano/modal";
const app = new App("late");
export const first = app.webEndpoint(function first() { return new Response("first"); });
export const later = app.webEndpoint(function later() { return new Response("later"); });
`;

Deno.test("a web endpoint first called after its worker heard its allowances gets a container", async () => {
  const env = { NANO_MODAL_TOKEN: TOKEN };
  const { proc: server, url } = await startServe(["--with-workers", "1", "--runner", "deno"], {
    env,
  });
  const run = new CliProcess(["run", "--server", url, await writeApp(SOURCE)], { env });
  try {
    const [, first] = await run.waitFor(/first: (http:\/\/\S+)/, 60_000);
    const [, later] = await run.waitFor(/later: (http:\/\/\S+)/);
    await run.waitFor(/Serving; press Ctrl-C/);
    strictEqual(await (await fetch(first)).text(), "first");
    // Two heartbeats: the worker now holds an allowance for `first` and none for `later`.
    await new Promise((r) => setTimeout(r, 11_000));
    const res = await fetch(later, { signal: AbortSignal.timeout(20_000) });
    strictEqual(res.status, 200);
    strictEqual(await res.text(), "later");
  } finally {
    await run.stop("SIGINT");
    await server.stop();
  }
});
