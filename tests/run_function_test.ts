// End-to-end: `run APP.ts::fn -- args`, `run --detach`, and the note when no worker is connected.
import { match, strictEqual } from "node:assert/strict";
import { check, CliProcess, ROOT, runCli, startServe, writeApp } from "./_cli.ts";

/** An app file in a directory of its own (removed when this test file ends). */
function tempApp(source: string): Promise<string> {
  return writeApp(source);
}

const APP = `import { App } from "${ROOT}sdk/mod.ts";
const app = new App("fnapp");
export const add = app.function(function add(a: number, b: number) {
  return { sum: a + b };
});
export const greet = app.function(function greet(name: string) {
  return \`hello \${name}\`;
});
`;

Deno.test("run APP.ts::fn passes JSON-parsed args and prints the result; a typo gets a suggestion", async () => {
  const path = await tempApp(APP);
  const add = await runCli(["run", `${path}::add`, "--runner", "deno", "--", "2", "3"]);
  check(add.code === 0, "add exit 0", add);
  strictEqual(add.stdout, '{"sum":5}\n');
  const greet = await runCli(["run", `${path}::greet`, "--runner", "deno", "--", "world"]);
  strictEqual(greet.stdout, "hello world\n", greet.stderr);
  const typo = await runCli(["run", `${path}::gret`, "--runner", "deno"]);
  strictEqual(typo.code, 1);
  match(typo.stderr, /No function "gret" in .*: did you mean "greet"\?/);
  const none = await runCli(["run", path, "--runner", "deno"]);
  match(none.stderr, /has no local entrypoint: .*nano-modal run .*::add/);
});

Deno.test("run against a server with no worker says it is waiting for one", async () => {
  const path = await tempApp(APP);
  const cp = await startServe();
  try {
    const run = new CliProcess(["run", `${path}::greet`, "--server", cp.url, "--", "x"]);
    await run.waitFor(/waiting for a worker: none is connected/, 20_000);
    await run.stop("SIGINT");
  } finally {
    await cp.proc.stop();
  }
});

Deno.test("run --detach leaves the app running; app stop ends it", async () => {
  const path = await tempApp(APP);
  const cp = await startServe(["--with-workers", "--runner", "deno"]);
  try {
    const r = await runCli(["run", `${path}::greet`, "--server", cp.url, "--detach", "--", "d"]);
    check(r.code === 0, "detached run exit 0", r);
    match(r.stderr, /keeps running \(detached\)/);
    const list = await runCli(["app", "list", "--server", cp.url]);
    match(list.stdout, /fnapp\s+ephemeral\s+-\s+running/);
    const stop = await runCli(["app", "stop", "fnapp", "--server", cp.url]);
    check(stop.code === 0, "stop", stop);
    const after = await runCli(["app", "list", "--server", cp.url]);
    match(after.stdout, /fnapp\s+ephemeral\s+-\s+stopped/);
    // With no server named or found (this test's `serve` would be), --detach has nothing to outlive it.
    const detachedEmbedded = await runCli(["run", path, "--detach"], {
      env: { NANO_MODAL_LOCAL_SERVER: "0" },
    });
    match(detachedEmbedded.stderr, /--detach needs a control plane/);
  } finally {
    await cp.proc.stop();
  }
});
