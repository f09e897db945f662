// End-to-end: `nano-modal run --watch` redeploys an app with web endpoints when its file changes.
import { ok, strictEqual } from "node:assert/strict";
import { CliProcess, runCli, startServe, writeApp } from "./_cli.ts";

const TOKEN = "watch-test-token-0123456789abcdef";

function source(version: string): string {
  return `import { App } from "@nano/modal";
const app = new App("watched");
export const hello = app.webEndpoint(async function hello(req: Request) {
  const slow = new URL(req.url).searchParams.get("slow");
  if (slow !== null) await new Promise((r) => setTimeout(r, Number(slow || 2_000)));
  return new Response("${version}");
});
`;
}

/** GETs `url` until it answers `want` (the gateway may take a second to see the new version). */
async function until(url: string, want: string): Promise<string> {
  let got = "";
  for (let i = 0; i < 50 && got !== want; i++) {
    if (i) await new Promise((r) => setTimeout(r, 100));
    got = await (await fetch(url)).text();
  }
  return got;
}

/** A server, and `run --watch` of version "one" of the app serving its endpoint through it. */
async function watching() {
  const env = { NANO_MODAL_TOKEN: TOKEN };
  const { proc: server, url } = await startServe(["--with-workers", "1", "--runner", "deno"], {
    env,
  });
  const file = await writeApp(source("one"));
  const run = new CliProcess(["run", "--watch", "--server", url, file], { env });
  try {
    const [, endpoint] = await run.waitFor(/hello: (http:\/\/\S+)/, 60_000);
    await run.waitFor(/Serving; press Ctrl-C/);
    strictEqual(await (await fetch(endpoint)).text(), "one");
    return { env, server, url, file, run, endpoint };
  } catch (err) {
    await run.stop("SIGINT");
    await server.stop();
    throw err;
  }
}

Deno.test("run --watch serves the endpoints, reloads on a change, and keeps serving past a syntax error", async () => {
  const { server, file, run, endpoint } = await watching();
  try {
    // A request in flight when the file changes finishes on the version it started on.
    const slow = fetch(`${endpoint}?slow`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 300));
    await Deno.writeTextFile(file, source("two"));
    await run.waitFor(/changed: reloaded \(version 2\)/, 60_000);
    strictEqual(await until(endpoint, "two"), "two");
    strictEqual(await slow, "one");

    // A syntax error: one line, and the previous version keeps serving.
    await Deno.writeTextFile(file, source("three") + "\nconst broken = ;\n");
    await run.waitFor(/does not start \(.*\): still serving the previous version/, 60_000);
    strictEqual(await (await fetch(endpoint)).text(), "two");
    strictEqual(run.stderr.match(/does not start/g)?.length, 1);

    // Fixed again: the next version serves.
    await Deno.writeTextFile(file, source("four"));
    await run.waitFor(/changed: reloaded \(version 3\)/, 60_000);
    strictEqual(await until(endpoint, "four"), "four");
  } finally {
    await run.stop("SIGINT");
    await server.stop();
  }
});

Deno.test("run --watch stops the previous version once its requests finished, not after a fixed time", async () => {
  const { env, server, url, file, run, endpoint } = await watching();
  try {
    // A 6 s request in flight across a reload: version 1 serves it to the end, then stops.
    const slow = fetch(`${endpoint}?slow=6000`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 300));
    await Deno.writeTextFile(file, source("two"));
    await run.waitFor(/changed: reloaded \(version 2\)/, 60_000);
    strictEqual(await until(endpoint, "two"), "two");
    strictEqual(await slow, "one");
    const finishedMs = Date.now();
    ok(!/version 1 stopped/.test(run.stderr), "version 1 stopped before its request finished");
    await run.waitFor(/version 1 stopped: its requests finished/, 15_000);
    const afterMs = Date.now() - finishedMs;
    ok(afterMs < 5_000, `version 1 stopped ${afterMs} ms after its last request finished`);

    // Nothing in flight: the previous version stops as soon as the name points past it.
    await Deno.writeTextFile(file, source("three"));
    await run.waitFor(/changed: reloaded \(version 3\)/, 60_000);
    const reloadedMs = Date.now();
    await run.waitFor(/version 2 stopped: its requests finished/, 15_000);
    ok(Date.now() - reloadedMs < 6_000, `version 2 stopped ${Date.now() - reloadedMs} ms after`);
    strictEqual(await (await fetch(endpoint)).text(), "three");

    // The control plane agrees: one version of the app runs.
    const list = await runCli(["app", "list", "--server", url], { env });
    strictEqual(list.stdout.split("\n").filter((l) => /^watched\b.*\brunning\b/.test(l)).length, 1);
  } finally {
    await run.stop("SIGINT");
    await server.stop();
  }
});
