// Secrets end to end, through `serve` and separate `worker` processes on both runners:
// the CLI, injection only into functions that list a secret (later ones override earlier),
// a missing secret failing the run before any call, and values never printed by the
// server or workers themselves, even when a function prints or throws them.
import { match, ok, strictEqual } from "node:assert/strict";
import { check, ROOT, runCli, writeApp } from "./_cli.ts";
import { startStack } from "./_state_stack.ts";

const SDK = JSON.stringify(`${ROOT}sdk/mod.ts`);
const VALUE = `s3cr3t-${crypto.randomUUID().slice(0, 12)}`;

const APP = `
import { App, Secret } from ${SDK};
const app = new App("secrets");
const api = Secret.fromName("api");
export const listed = app.function({ secrets: [api, Secret.fromDict({ REGION: "eu" })] },
  function listed() {
    console.log("my token is " + Deno.env.get("TOKEN"));
    return [Deno.env.get("TOKEN"), Deno.env.get("REGION")].join(",");
  });
export const overridden = app.function({ secrets: [api, Secret.fromDict({ TOKEN: "dict-wins" })] },
  function overridden() { return Deno.env.get("TOKEN"); });
export const leaky = app.function({ secrets: [api] }, function leaky() {
  throw new Error("failed with " + Deno.env.get("TOKEN"));
});
export const unlisted = app.function(function unlisted() {
  return Deno.env.get("TOKEN") ?? "no token";
});
app.localEntrypoint(async () => {
  console.log("listed=" + await listed.remote());
  console.log("overridden=" + await overridden.remote());
  console.log("unlisted=" + await unlisted.remote());
  try { await leaky.remote(); } catch (e) { console.log("caught " + e.message); }
});
`;

const MISSING = `
import { App, Secret } from ${SDK};
const app = new App("missing");
export const f = app.function({ secrets: [Secret.fromName("nope-not-here")] }, function f() {
  console.log("RAN");
});
app.localEntrypoint(async () => { await f.remote(); });
`;

for (const runner of ["deno", "docker"] as const) {
  Deno.test(`secrets reach only the functions listing them, and never our own output (${runner} runner)`, async () => {
    const stack = await startStack([runner]);
    try {
      let r = await stack.cli(["secret", "create", "api", `TOKEN=${VALUE}`]);
      check(r.code === 0, "secret create", r);
      r = await stack.cli(["secret", "list"]);
      check(r.code === 0 && /api\s.*TOKEN/.test(r.stdout), "list shows name and keys", r);
      ok(!r.stdout.includes(VALUE), "list never shows values");

      const file = await writeApp(APP);
      r = await runCli(["run", "--server", stack.url, file], {
        env: stack.env,
        timeoutMs: 120_000,
      });
      check(r.code === 0, "app runs", r);
      match(r.stdout, new RegExp(`listed=${VALUE},eu`));
      match(r.stdout, /overridden=dict-wins/);
      match(r.stdout, /unlisted=no token/);
      // The function's own output and errors go to its caller.
      match(r.stdout, new RegExp(`my token is ${VALUE}`));
      match(r.stdout, new RegExp(`caught .*failed with ${VALUE}`));

      const missing = await writeApp(MISSING);
      r = await runCli(["run", "--server", stack.url, missing], { env: stack.env });
      check(r.code !== 0, "a missing secret fails the run", r);
      match(r.stderr, /Secret "nope-not-here" not found/);
      ok(!(r.stdout + r.stderr).includes("RAN"), "the function never ran");
      await new Promise((res) => setTimeout(res, 300));
      ok(
        !stack.ownOutput().includes(VALUE),
        `server and worker output hold no value:\n${stack.ownOutput()}`,
      );
    } finally {
      await stack.stop();
    }
    ok(!stack.ownOutput().includes(VALUE), "not even at shutdown");
  });
}

Deno.test("secret create refuses bad input in one line, replaces only with --force, and delete removes", async () => {
  const stack = await startStack([]);
  try {
    let r = await stack.cli(["secret", "create", "k", "NOEQUALS"]);
    check(r.code !== 0 && r.stderr.trim().split("\n").length === 1, "no = is one line", r);
    match(r.stderr, /no "="/);
    ok(!r.stderr.includes("NOEQUALS"), "the argument (maybe a value) is not echoed");
    r = await stack.cli(["secret", "create", "k", "1BAD=x"]);
    check(r.code !== 0, "invalid env name", r);
    match(r.stderr, /not a valid environment variable name/);
    r = await stack.cli(["secret", "create", "k", "A=1"]);
    check(r.code === 0, "created", r);
    r = await stack.cli(["secret", "create", "k", "A=2"]);
    check(r.code !== 0, "exists", r);
    match(r.stderr, /already exists: pass --force/);
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/.env`, "# keys\nB=two\nexport C='three'\n");
    r = await stack.cli([
      "secret",
      "create",
      "k",
      "A=3",
      "--from-dotenv",
      `${dir}/.env`,
      "--force",
    ]);
    check(r.code === 0, "replaced", r);
    r = await stack.cli(["secret", "list"]);
    match(r.stdout, /k\s.*A, B, C/);
    r = await stack.cli(["secret", "delete", "k"]);
    check(r.code === 0, "deleted", r);
    r = await stack.cli(["secret", "delete", "k"]);
    check(r.code !== 0, "gone", r);
    match(r.stderr, /Secret "k" not found/);
    strictEqual((await stack.cli(["secret", "list"])).stdout.includes("k "), false);
  } finally {
    await stack.stop();
  }
});
