// End-to-end: the rough edges a new user met (issue 12), as the user sees them.
import { match, strictEqual } from "node:assert/strict";
import { check, runCli, startServe } from "./_cli.ts";

Deno.test("a remote error keeps its cause chain, retries are announced, typed flags parse, a throwing then fails the call", async () => {
  const r = await runCli([
    "run",
    "--runner",
    "deno",
    "tests/fixtures/edges.ts",
    "--",
    "--n",
    "5",
    "--name=y",
    "--loud",
  ]);
  check(r.code === 0, "exit code 0", r);
  match(r.stdout, /flags: \{"n":5,"name":"y","loud":true\}/);
  match(r.stdout, /cause: Error: connect ECONNREFUSED 127\.0\.0\.1:9 <- RangeError/);
  match(r.stdout, /stack-has-cause: true/);
  strictEqual(r.stdout.split("\n").find((l) => l.startsWith("flaky:")), "flaky: 25");
  match(r.stdout, /trap: .*then trap/);
  match(r.stderr, /\[flaky\] retrying flaky \(attempt 2\/3\) after TypeError: not yet 1/);
  match(r.stderr, /\[flaky\] retrying flaky \(attempt 3\/3\) after TypeError: not yet 2/);
});

Deno.test("an unknown entrypoint flag is one line naming the flags it takes", async () => {
  const r = await runCli(["run", "--runner", "deno", "tests/fixtures/edges.ts", "--", "--m", "1"]);
  check(r.code === 1, "exit code 1", r);
  match(
    r.stderr,
    /Unknown flag --m for the local entrypoint of app "edges": it takes --n <number> --name <string> --loud/,
  );
});

Deno.test("token messages: said once, name --token, and too short or spaced tokens are refused", async () => {
  const short = await runCli(["serve", "--port", "0", "--token", "short"]);
  strictEqual(short.code, 1);
  match(short.stderr, /The token from --token has 5 characters, fewer than 16/);
  const spaced = await runCli(["serve", "--port", "0"], {
    env: { NANO_MODAL_TOKEN: "0123456789abcdef 0123" },
  });
  strictEqual(spaced.code, 1);
  match(spaced.stderr, /The token from NANO_MODAL_TOKEN contains whitespace/);

  const token = crypto.randomUUID();
  const { proc, url } = await startServe(["--with-workers", "--runner", "deno", "--token", token]);
  const noConfig = await Deno.makeTempDir();
  try {
    const none = await runCli(["run", "--server", url, "examples/hello.ts"], {
      env: { XDG_CONFIG_HOME: noConfig },
    });
    strictEqual(none.code, 1);
    match(none.stderr, /none was sent/);
    match(none.stderr, /pass --token or set NANO_MODAL_TOKEN/);
    strictEqual(none.stderr.match(/NANO_MODAL_TOKEN/g)?.length, 1, none.stderr);
    const flag = await runCli(["run", "--server", url, "--token", token, "examples/hello.ts"]);
    check(flag.code === 0, "run with --token", flag);
    strictEqual(flag.stdout, "25\n");
  } finally {
    await proc.stop();
    await Deno.remove(noConfig, { recursive: true });
  }
});

Deno.test("an example copied out of the repo runs with @nano/modal and jsr:@nano/modal, no deno.json", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-copied-" });
  try {
    const hello = await Deno.readTextFile("examples/hello.ts");
    await Deno.writeTextFile(`${dir}/bare.ts`, hello);
    await Deno.writeTextFile(
      `${dir}/jsr.ts`,
      hello.replace('from "@nano/modal"', 'from "jsr:@nano/modal"'),
    );
    for (const file of ["bare.ts", "jsr.ts"]) {
      const r = await runCli(["run", "--runner", "deno", file], { cwd: dir });
      check(r.code === 0, `${file} exits 0`, r);
      strictEqual(r.stdout, "25\n");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run --check stops on a type error before anything runs, and passes a correct app", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-check-" });
  try {
    await Deno.writeTextFile(
      `${dir}/bad.ts`,
      `import { App } from "@nano/modal";
const app = new App("bad");
const sq = app.function(function sq(x: number) { return x * x; });
app.localEntrypoint(async () => { console.log("ran"); console.log(await sq.remote("five")); });
`,
    );
    const bad = await runCli(["run", "--check", "--runner", "deno", "bad.ts"], { cwd: dir });
    strictEqual(bad.code, 1);
    match(bad.stderr, /TS2345/);
    match(bad.stderr, /error: bad\.ts does not type-check: fix the errors above/);
    strictEqual(bad.stdout, "");
    const good = await runCli(["run", "--check", "--runner", "deno", "examples/hello.ts"]);
    check(good.code === 0, "a correct app runs", good);
    strictEqual(good.stdout, "25\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const SDK_URL = JSON.stringify(new URL("../sdk/mod.ts", import.meta.url).href);

Deno.test("cpu beyond the worker's CPUs is one InvalidError naming the function and the option", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-cpu-" });
  try {
    await Deno.writeTextFile(
      `${dir}/app.ts`,
      `import { App } from ${SDK_URL};
const app = new App("greedy");
export const hungry = app.function({ cpu: 64 }, function hungry() { return 1; });
export const fat = app.function({ memoryMiB: 1048576 }, function fat() { return 1; });
app.localEntrypoint(async () => {
  for (const f of [hungry, fat]) {
    try { await f.remote(); } catch (e) { console.log((e as Error).name + ": " + (e as Error).message); }
  }
});
`,
    );
    const r = await runCli(["run", "--runner", "deno", `${dir}/app.ts`]);
    check(r.code === 0, "exit 0", r);
    match(
      r.stdout,
      /^InvalidError: hungry asks for cpu: 64, but the worker on \S+ has \d+ CPUs?: lower cpu in app\.function\(\{ cpu \}\)/m,
    );
    match(
      r.stdout,
      /^InvalidError: fat asks for memoryMiB: 1048576, but the worker on \S+ has \d+ MiB/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an argument over the 64 MiB message limit fails at once, saying so and suggesting a Volume", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-big-" });
  try {
    await Deno.writeTextFile(
      `${dir}/app.ts`,
      `import { App } from ${SDK_URL};
const app = new App("big");
export const size = app.function(function size(b: Uint8Array) { return b.length; });
app.localEntrypoint(async () => { console.log(await size.remote(new Uint8Array(100_000_000))); });
`,
    );
    const r = await runCli(["run", "--runner", "deno", `${dir}/app.ts`]);
    strictEqual(r.code, 1);
    match(
      r.stderr,
      /size\.remote\(\): the arguments are 95\.4 MiB encoded, over the 64 MiB limit of one message: put big data in a Volume and pass its path/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the deno runner refuses an image it cannot honour in one line, /tmp is writable, --runner is announced", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-runner-" });
  try {
    await Deno.writeTextFile(
      `${dir}/app.ts`,
      `import { App, Image } from ${SDK_URL};
const app = new App("runners");
export const scratch = app.function(async function scratch() {
  await Deno.writeTextFile("/tmp/x", "written");
  return await Deno.readTextFile("/tmp/x");
});
export const jq = app.function({ image: Image.debianSlim().aptInstall("jq") }, function jq() {
  return new Deno.Command("jq", { args: ["--version"] }).outputSync().success;
});
app.localEntrypoint(async () => {
  console.log("tmp: " + await scratch.remote());
  try { await jq.remote(); } catch (e) { console.log((e as Error).name + ": " + (e as Error).message); }
});
`,
    );
    const r = await runCli(["run", "--runner", "deno", `${dir}/app.ts`]);
    check(r.code === 0, "exit 0", r);
    match(r.stderr, /^nano-modal: using the deno runner \(--runner deno\)$/m);
    match(r.stdout, /^tmp: written$/m);
    match(
      r.stdout,
      /^InvalidError: jq uses Image\.debianSlim\(\), which the deno runner cannot honour: run it on a worker with --runner docker$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
