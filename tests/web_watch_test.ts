// End-to-end: `nano-modal run --watch` redeploys an app with web endpoints when its file changes.
import { strictEqual } from "node:assert/strict";
import { CliProcess, startServe, writeApp } from "./_cli.ts";

const TOKEN = "watch-test-token-0123456789abcdef";

function source(version: string): string {
  return `import { App } from "@nano/modal";
const app = new App("watched");
export const hello = app.webEndpoint(async function hello(req: Request) {
  if (new URL(req.url).searchParams.has("slow")) await new Promise((r) => setTimeout(r, 2_000));
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

Deno.test("run --watch serves the endpoints, reloads on a change, and keeps serving past a syntax error", async () => {
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
