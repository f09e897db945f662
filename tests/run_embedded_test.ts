// End-to-end: `nano-modal run` with the embedded control plane and worker (deno runner).
import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import { check, MAIN, ROOT, runCli, runDeno, writeApp } from "./_cli.ts";

const SDK = `${ROOT}sdk/mod.ts`;

Deno.test("run examples/hello.ts prints 25", async () => {
  const r = await runCli(["run", "--runner", "deno", "examples/hello.ts"]);
  check(r.code === 0, "exit code 0", r);
  strictEqual(r.stdout, "25\n");
});

Deno.test("the SDK surface works end to end: remote, map, unordered, starmap, exceptions, spawn, fidelity, errors, logs", async () => {
  const r = await runCli(["run", "--runner", "deno", "tests/fixtures/features.ts"]);
  check(r.code === 0, "exit code 0", r);
  const line = (label: string) => r.stdout.split("\n").find((l) => l.startsWith(`${label}: `));
  strictEqual(line("remote"), "remote: 49");
  strictEqual(line("map"), "map: [ 1, 4, 9, 16, 25 ]");
  strictEqual(line("unordered"), "unordered: [ 10, 150, 300 ]");
  strictEqual(line("starmap"), "starmap: [ 3, 7 ]");
  strictEqual(line("exceptions"), 'exceptions: [ 0, "RemoteError:RangeError", 2 ]');
  strictEqual(line("spawn"), "spawn: 81");
  strictEqual(
    line("fidelity"),
    "fidelity: { date: true, map: true, big: true, bytes: true, floats: true, nested: true, err: true }",
  );
  strictEqual(line("error"), 'error: [ "RemoteError", "RangeError", "odd input 3" ]');
  strictEqual(line("logs"), 'logs: "SANDBOX"');
  strictEqual(line("generator"), "generator: [ 100, 400, 900 ]");
});

Deno.test("a result that cannot be sent back is a clear remote TypeError", async () => {
  const r = await runCli([
    "run",
    "--runner",
    "deno",
    "tests/fixtures/features.ts",
    "--",
    "badresult",
  ]);
  check(r.code === 0, "exit code 0", r);
  match(
    r.stdout,
    /badresult: "RemoteError: TypeError: makeWeird returned a value that cannot be sent back: Cannot send an instance of class Weird at result/,
  );
});

Deno.test("a remote exception's stack points at the user's own file and line, not at nano-modal", async () => {
  const r = await runCli(["run", "--runner", "deno", "tests/fixtures/features.ts", "--", "error"]);
  check(r.code === 0, "exit code 0", r);
  const stack = r.stdout.slice(r.stdout.indexOf("stack: "));
  match(stack, /at fail \(file:\/\/\/.*tests\/fixtures\/features\.ts:19:\d+\)/);
  check(!/entrypoint|runner\/|sdk\//.test(stack), "no internal frames in the remote stack", r);
});

Deno.test("what a function prints streams back to the caller, prefixed with its name", async () => {
  const r = await runCli(["run", "--runner", "deno", "tests/fixtures/features.ts", "--", "logs"]);
  check(r.code === 0, "exit code 0", r);
  const lines = r.stdout.split("\n");
  const printed = lines.indexOf("[shout] hello from sandbox");
  check(printed >= 0, "stdout line prefixed", r);
  check(printed < lines.indexOf('logs: "SANDBOX"'), "the log line arrives before the result", r);
  match(r.stderr, /^\[shout\] warning from sandbox$/m);
});

Deno.test("sending a class instance fails at the call with a clear error", async () => {
  const r = await runCli([
    "run",
    "--runner",
    "deno",
    "tests/fixtures/features.ts",
    "--",
    "unsendable",
  ]);
  check(r.code === 0, "exit code 0", r);
  match(
    r.stdout,
    /unsendable: "InvalidError: echo\.remote\(\): Cannot send an instance of class Point at args\[0\]/,
  );
});

Deno.test("a plain `deno run -A app.ts` runs the local entrypoint through an embedded worker", async () => {
  const r = await runDeno(["run", "-A", "examples/hello.ts"], {
    env: { NANO_MODAL_RUNNER: "deno" },
  });
  check(r.code === 0, "exit code 0", r);
  strictEqual(r.stdout, "25\n");
});

Deno.test("a script anywhere on disk importing the SDK by path, with no deno.json, works under run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-bypath-" });
  try {
    const file = await writeApp(
      `import { App } from ${JSON.stringify(SDK)};
const app = new App("bypath");
export const cube = app.function(function cube(x: number) { return x ** 3; });
app.localEntrypoint(async (args) => {
  console.log(await cube.remote(Number(args[0])));
});
`,
      dir,
    );
    const r = await runCli(["run", "--runner", "deno", file, "--", "3"], { cwd: dir });
    check(r.code === 0, "exit code 0", r);
    strictEqual(r.stdout, "27\n");
    const plain = await runDeno(["run", "-A", file, "4"], {
      cwd: dir,
      // The SDK finds the CLI through NANO_MODAL_CLI (or `nano-modal` on PATH), never by path.
      env: { NANO_MODAL_RUNNER: "deno", NANO_MODAL_CLI: MAIN },
    });
    check(plain.code === 0, "plain script exit code 0", plain);
    strictEqual(plain.stdout, "64\n");
    const lost = await runDeno(["run", "-A", file, "4"], {
      cwd: dir,
      env: { PATH: dir, NANO_MODAL_CLI: "" },
    });
    strictEqual(lost.code, 1);
    match(lost.stderr, /^error: cannot find the nano-modal CLI.*NANO_MODAL_CLI/);
    strictEqual(lost.stderr.trim().split("\n").length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/parallel.ts fans out with map and keeps input order", async () => {
  const r = await runCli(["run", "--runner", "deno", "examples/parallel.ts", "--", "8"]);
  check(r.code === 0, "exit code 0", r);
  deepStrictEqual(r.stdout.split("\n")[0], "0 1 4 9 16 25 36 49");
});
