// End-to-end: deployed apps called by name from plain scripts, across restarts and redeploys.
import { match, ok, strictEqual } from "node:assert/strict";
import { check, CliProcess, ROOT, runCli, runDeno, startServe } from "./_cli.ts";
import { startRedis } from "./mod.ts";
import { createClient } from "../proto/deps.ts";
import { ControlService } from "../proto/messages.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { readTokenFile } from "../proto/token_file.ts";

const CLIENT = "tests/fixtures/lookup_client.ts";

function appSource(version: string, extra = ""): string {
  return `import { App } from "${ROOT}sdk/mod.ts";
const app = new App("demo");
export const square = app.function(function square(x: number) {
  console.log("squaring ${version}", x);
  return ${version === "v1" ? "x * x" : "x * x + 1"};
});
export const slow = app.function({ timeoutMs: 120_000 }, async function slow(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  return "${version}";
});
${extra}`;
}

async function writeApp(dir: string, source: string): Promise<string> {
  const path = `${dir}/demo_app.ts`;
  await Deno.writeTextFile(path, source);
  return path;
}

function client(url: string, ...args: string[]) {
  return runDeno(["run", "-A", CLIENT, ...args], {
    env: { NANO_MODAL_SERVER: url },
    timeoutMs: 90_000,
  });
}

/** The control plane's view of apps. */
export async function listApps(url: string) {
  // `serve` without NANO_MODAL_TOKEN requires the token it keeps for local clients.
  const { transport, close } = createRpcTransport({ baseUrl: url, token: readTokenFile() });
  try {
    return (await createClient(ControlService, transport).listApps({})).apps;
  } finally {
    close();
  }
}

Deno.test("deploy, call by name from a plain script, restart, redeploy while a call runs, stop", async () => {
  const redis = await startRedis();
  const dir = await Deno.makeTempDir({ prefix: "nm-deploy-" });
  const serveArgs = ["--redis", redis.url, "--with-workers", "--runner", "deno"];
  let cp = await startServe(serveArgs);
  try {
    const path = await writeApp(dir, appSource("v1"));
    // No server named, and the local one (this test's `serve`) not looked for.
    const noServer = await runCli(["deploy", path], { env: { NANO_MODAL_LOCAL_SERVER: "0" } });
    strictEqual(noServer.code, 1);
    match(noServer.stderr, /start one with `nano-modal serve`/);
    strictEqual(noServer.stderr.trim().split("\n").length, 1, noServer.stderr);

    const d1 = await runCli(["deploy", path, "--server", cp.url]);
    check(d1.code === 0, "deploy exit 0", d1);
    match(d1.stdout, /Deployed app "demo" version 1/);
    match(d1.stdout, /square/);

    const r1 = await client(cp.url, "remote", "demo", "square", "[7]");
    check(r1.code === 0, "plain script exits 0 by itself", r1);
    strictEqual(r1.stdout, "49\n");
    const m1 = await client(cp.url, "map", "demo", "square", "[1,2,3]");
    check(m1.code === 0, "map exit 0", m1);
    strictEqual(m1.stdout, "1\n4\n9\n");

    const again = await runCli(["deploy", path, "--server", cp.url]);
    check(again.code === 0, "unchanged deploy exit 0", again);
    match(again.stdout, /unchanged: version 1 stays current/);

    // The control plane restarts; the deployed app is still there.
    await cp.proc.stop();
    cp = await startServe(serveArgs);
    const r2 = await client(cp.url, "remote", "demo", "square", "[7]");
    check(r2.code === 0, "call after restart", r2);
    strictEqual(r2.stdout, "49\n");

    // A long call on v1, then a redeploy: new calls see v2, the long one ends on v1.
    const spawned = await client(cp.url, "spawn", "demo", "slow", "[4000]");
    check(spawned.code === 0, "spawn", spawned);
    const callId = spawned.stdout.trim();
    await new Promise((r) => setTimeout(r, 1_000));
    await writeApp(dir, appSource("v2"));
    const d2 = await runCli(["deploy", path, "--server", cp.url]);
    check(d2.code === 0, "redeploy", d2);
    match(d2.stdout, /version 2/);
    const r3 = await client(cp.url, "remote", "demo", "square", "[7]");
    strictEqual(r3.stdout, "50\n", r3.stderr);
    const old = await client(cp.url, "get", callId);
    check(old.code === 0, "in-flight call finished", old);
    strictEqual(old.stdout, '"v1"\n');

    const history = await runCli(["app", "history", "demo", "--server", cp.url]);
    check(history.code === 0, "history", history);
    match(history.stdout, /^2 \*/m);
    const logs = await runCli(["app", "logs", "demo", "--server", cp.url]);
    match(logs.stdout, /\[square fc-[0-9a-z]+\] squaring v2 7/, "time, function and call id");

    const typo = await client(cp.url, "remote", "demo", "sqare", "[1]");
    strictEqual(typo.code, 1);
    match(
      typo.stderr,
      /NotFoundError: Cannot find function "sqare" in app "demo": did you mean "square"\?/,
    );
    match(typo.stderr, /lookup_client\.ts:\d+/);
    ok(!/sdk\/|connectrpc/.test(typo.stderr), `the stack is the user's:\n${typo.stderr}`);

    const stop = await runCli(["app", "stop", "demo", "--server", cp.url]);
    check(stop.code === 0, "stop", stop);
    const after = await client(cp.url, "remote", "demo", "square", "[7]");
    strictEqual(after.code, 1);
    match(after.stderr, /App "demo" is stopped/);
    const list = await runCli(["app", "list", "--server", cp.url]);
    match(list.stdout, /demo\s+deployed\s+2\s+stopped/);
  } finally {
    await cp.proc.stop();
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FunctionCall.cancel drops a queued call and stops a running one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-cancel-" });
  const cp = await startServe(["--with-workers", "--concurrency", "1", "--runner", "deno"]);
  try {
    const path = await writeApp(dir, appSource("v1"));
    check((await runCli(["deploy", path, "--server", cp.url])).code === 0, "deploy", {
      stdout: "",
      stderr: "",
    });
    const started = Date.now();
    const running = (await client(cp.url, "spawn", "demo", "slow", "[60000]")).stdout.trim();
    const queued = (await client(cp.url, "spawn", "demo", "slow", "[60000]")).stdout.trim();
    await new Promise((r) => setTimeout(r, 1_500));
    for (const id of [queued, running]) {
      const c = await client(cp.url, "cancel", id);
      check(c.code === 0, "cancel", c);
      const g = await client(cp.url, "get", id);
      strictEqual(g.code, 1);
      match(g.stderr, /CancelledError: Call fc-\S+ was cancelled/);
    }
    // The worker is free again: its only slot was the cancelled input's.
    const next = await client(cp.url, "remote", "demo", "square", "[3]");
    strictEqual(next.stdout, "9\n", next.stderr);
    ok(Date.now() - started < 45_000, "the running call was stopped, not waited for");
  } finally {
    await cp.proc.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy refuses bad input with one line each; app logs --follow shows new output", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-deploy-bad-" });
  const cp = await startServe(["--with-workers", "--runner", "deno"]);
  try {
    const oneLine = (r: { stderr: string }) =>
      strictEqual(r.stderr.trim().split("\n").length, 1, r.stderr);
    await Deno.writeTextFile(
      `${dir}/two.ts`,
      `import { App } from "${ROOT}sdk/mod.ts";
new App("a").function(function f() {});
new App("b").function(function g() {});
`,
    );
    const two = await runCli(["deploy", `${dir}/two.ts`, "--server", cp.url]);
    match(two.stderr, /defines several apps \(a, b\): deploy one per file/);
    oneLine(two);
    await Deno.writeTextFile(`${dir}/broken.ts`, "export const = ;\n");
    const broken = await runCli(["deploy", `${dir}/broken.ts`, "--server", cp.url]);
    match(broken.stderr, /Cannot load .*broken\.ts/);
    oneLine(broken);
    const badName = await runCli(["deploy", `${dir}/two.ts`, "--name", "no spaces"]);
    match(badName.stderr, /--name "no spaces" is not valid/);

    // A running `run` holds its app's name.
    const path = await writeApp(dir, appSource("v1"));
    const busy = await runCli(["run", `${path}::slow`, "--server", cp.url, "--detach", "--", "1"]);
    check(busy.code === 0, "detached run", busy);
    const taken = await runCli(["deploy", path, "--server", cp.url]);
    match(taken.stderr, /App name "demo" is in use by a running `nano-modal run`/);
    oneLine(taken);
    check((await runCli(["app", "stop", "demo", "--server", cp.url])).code === 0, "stop", taken);

    const d = await runCli(["deploy", path, "--server", cp.url]);
    check(d.code === 0, "deploy", d);
    const follow = new CliProcess(["app", "logs", "demo", "--follow", "--server", cp.url]);
    await new Promise((r) => setTimeout(r, 1_500));
    const r = await client(cp.url, "remote", "demo", "square", "[12]");
    strictEqual(r.stdout, "144\n", r.stderr);
    await follow.waitFor(/\[square fc-[0-9a-z]+\] squaring v1 12/, 15_000);
    await follow.stop("SIGINT");
  } finally {
    await cp.proc.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a deployed app survives a restart of an embedded control plane (--data-dir)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-deploy-data-" });
  const args = ["--data-dir", `${dir}/data`, "--with-workers", "--runner", "deno"];
  let cp = await startServe(args);
  try {
    const path = await writeApp(dir, appSource("v1"));
    check((await runCli(["deploy", path, "--server", cp.url])).code === 0, "deploy", {
      stdout: "",
      stderr: "",
    });
    strictEqual((await client(cp.url, "remote", "demo", "square", "[5]")).stdout, "25\n");
    await cp.proc.stop();
    cp = await startServe(args);
    const r = await client(cp.url, "remote", "demo", "square", "[6]");
    strictEqual(r.stdout, "36\n", r.stderr);
    const history = await runCli(["app", "history", "demo", "--server", cp.url]);
    match(history.stdout, /^1 \*/m);
    const logs = await runCli(["app", "logs", "demo", "--server", cp.url]);
    match(logs.stdout, /squaring v1 5/, "logs kept across the restart");
  } finally {
    await cp.proc.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a redeploy while a map is running loses no input: the map finishes on its version", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nm-deploy-map-" });
  const cp = await startServe(["--with-workers", "--runner", "deno"]);
  try {
    const path = await writeApp(
      dir,
      appSource("v1").replace('new App("demo")', 'new App("mapper")'),
    );
    check((await runCli(["deploy", path, "--server", cp.url])).code === 0, "deploy v1", {
      stdout: "",
      stderr: "",
    });
    const items = JSON.stringify(Array.from({ length: 40 }, () => 300));
    const mapping = client(cp.url, "map", "mapper", "slow", items);
    await new Promise((r) => setTimeout(r, 1_500));
    await writeApp(dir, appSource("v2").replace('new App("demo")', 'new App("mapper")'));
    const d2 = await runCli(["deploy", path, "--server", cp.url]);
    check(d2.code === 0, "redeploy mid-map", d2);
    match(d2.stdout, /version 2/);
    const done = await mapping;
    check(done.code === 0, "map exit 0", done);
    const lines = done.stdout.trim().split("\n");
    strictEqual(lines.length, 40, "every input has its result");
    ok(lines.every((l) => l === '"v1"'), "the map ran on the version it started on");
    const after = await client(cp.url, "remote", "mapper", "slow", "[1]");
    strictEqual(after.stdout, '"v2"\n', after.stderr);
  } finally {
    await cp.proc.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
