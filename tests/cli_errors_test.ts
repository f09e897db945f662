// Every user mistake is one clear line on stderr, a non-zero exit, and no stack from our code.
import { match, strictEqual } from "node:assert/strict";
import { runCli, writeApp } from "./_cli.ts";

async function mistake(args: string[], expected: RegExp, env?: Record<string, string>) {
  const r = await runCli(args, { env });
  strictEqual(r.code !== 0, true, `non-zero exit for ${args.join(" ")}`);
  const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("nano-modal: using"));
  strictEqual(lines.length, 1, `one line for ${args.join(" ")}:\n${r.stderr}`);
  match(lines[0], expected);
  strictEqual(/\bat .*\.ts:\d+/.test(r.stderr), false, `no stack trace:\n${r.stderr}`);
}

Deno.test("run with a missing file says which file and where it looked", async () => {
  await mistake(
    ["run", "--runner", "deno", "examples/helo.ts"],
    /^error: Cannot find examples\/helo\.ts: check the path/,
  );
});

Deno.test("run of a module without an App says how to create one", async () => {
  await mistake(
    ["run", "--runner", "deno", "tests/fixtures/no_app.ts"],
    /^error: No App in tests\/fixtures\/no_app\.ts: create one with/,
  );
});

Deno.test("run of an app without a local entrypoint says what to add", async () => {
  await mistake(
    ["run", "--runner", "deno", "tests/fixtures/no_entrypoint.ts"],
    /has no local entrypoint: add app\.localEntrypoint/,
  );
});

Deno.test("a module that does not parse is one line naming the file and position", async () => {
  // Written at test time: a file that does not parse would break `deno fmt` and `deno lint`.
  const file = await writeApp(
    'import { App } from "@nano/modal";\nconst app = new App("x"\napp.localEntrypoint(() => {});\n',
  );
  try {
    await mistake(
      ["run", "--runner", "deno", file],
      /^error: Cannot load .*\/app\.ts: SyntaxError: Expected ',', got 'app' \(.*app\.ts:3:1\)$/,
    );
  } finally {
    await Deno.remove(file.slice(0, file.lastIndexOf("/")), { recursive: true });
  }
});

Deno.test("a misspelt function option is an error at definition time naming the valid one", async () => {
  await mistake(
    ["run", "--runner", "deno", "tests/fixtures/bad_option.ts"],
    /Unknown option "timeoutMS" in the options of f: did you mean "timeoutMs"\?/,
  );
});

Deno.test("a map whose iterable throws fails with that error, not a lost server", async () => {
  const file = await writeApp(
    'import { App } from "@nano/modal";\nconst app = new App("bad-inputs");\n' +
      "export const echo = app.function(function echo(x: number) { return x; });\n" +
      'function* inputs() { yield 1; yield 2; throw new Error("the input list broke at 3"); }\n' +
      "app.localEntrypoint(async () => { for await (const _ of echo.map(inputs())) {} });\n",
  );
  try {
    await mistake(["run", "--runner", "deno", file], /the input list broke at 3/);
  } finally {
    await Deno.remove(file.slice(0, file.lastIndexOf("/")), { recursive: true });
  }
});

Deno.test("an unreachable server is one line that says how to start one", async () => {
  await mistake(
    ["run", "--server", "http://127.0.0.1:59997", "examples/hello.ts"],
    /^error: Cannot reach the nano-modal server at http:\/\/127\.0\.0\.1:59997 .*nano-modal serve/,
  );
});

Deno.test("unknown flags, commands and bad values say what to do", async () => {
  await mistake(
    ["run", "--sever", "x", "examples/hello.ts"],
    /^error: Unknown flag --sever for `nano-modal run`: did you mean --server\?/,
  );
  await mistake(["serv"], /^error: Unknown command "serv": did you mean "serve"\?/);
  await mistake(
    ["serve", "--port", "abc"],
    /^error: --port must be a whole number from 0 to 65535, got "abc"/,
  );
  await mistake(
    ["worker"],
    /^error: worker needs a control plane: pass --server URL or set NANO_MODAL_SERVER/,
  );
  await mistake(
    ["run", "--server", "ftp://x", "examples/hello.ts"],
    /^error: --server "ftp:\/\/x" must start with http:\/\/ or https:\/\//,
  );
  await mistake(
    ["run", "--runner", "vm", "examples/hello.ts"],
    /^error: --runner must be "docker" or "deno", got "vm"/,
  );
});

Deno.test("--help on each command prints usage and exits 0", async () => {
  for (const cmd of ["run", "serve", "worker"]) {
    const r = await runCli([cmd, "--help"]);
    strictEqual(r.code, 0);
    match(r.stdout, /^Usage: nano-modal /m);
  }
});

Deno.test("serve and run with a data dir they cannot create say so and what to do", async () => {
  const file = await Deno.makeTempFile({ prefix: "nano_modal_not_a_dir_" });
  try {
    const expected =
      /^error: Cannot open the data dir .*: pass --data-dir or set NANO_MODAL_DATA_DIR/;
    await mistake(["serve", "--port", "0", "--data-dir", `${file}/data`], expected);
    const env = { NANO_MODAL_DATA_DIR: `${file}/data` };
    await mistake(["run", "--runner", "deno", "examples/hello.ts"], expected, env);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a run that stops on the user's mistake leaves no scratch files (its early bundle's included)", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nm_mistake_tmp_" });
  try {
    for (const fixture of ["no_app", "no_entrypoint", "bad_option"]) {
      const r = await runCli(["run", "--runner", "deno", `tests/fixtures/${fixture}.ts`], {
        env: { TMPDIR: tmp },
      });
      strictEqual(r.code, 1, r.stderr);
    }
    const left: string[] = [];
    for await (const e of Deno.readDir(tmp)) left.push(e.name);
    strictEqual(left.join(", "), "", "nothing left in TMPDIR");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
