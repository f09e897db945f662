// A server started without a token makes one, keeps it where local clients and workers of
// the same user find it (0600, never printed), and lets in only those who hold it.
import { match, ok, strictEqual } from "node:assert/strict";
import { check, ROOT, runCli, runDeno, startServe, writeApp } from "./_cli.ts";

const PING = "/nanomodal.v1.ControlService/Ping";

async function post(url: string, init: RequestInit) {
  const res = await fetch(url, { method: "POST", ...init });
  return { status: res.status, body: await res.text() };
}

Deno.test("serve without a token generates one (0600, never printed), and only clients holding it get in", async () => {
  const config = await Deno.makeTempDir({ prefix: "nm-config-" });
  const env = { XDG_CONFIG_HOME: config };
  const { proc, url } = await startServe(["--with-workers", "--runner", "deno"], { env });
  try {
    const file = `${config}/nano-modal/token`;
    const info = await Deno.stat(file);
    strictEqual(info.mode! & 0o777, 0o600);
    const token = (await Deno.readTextFile(file)).trim();
    ok(token.length >= 40, "a long random token");
    await proc.waitFor(/token: generated and stored in/);
    ok(proc.stderr.includes(file), "the server says where the token is");
    ok(!proc.stderr.includes(token), "the token itself stays out of the log");

    const headers = { "content-type": "application/json" };
    strictEqual((await post(`${url}${PING}`, { headers, body: "{}" })).status, 401);
    const wrong = await post(`${url}${PING}`, {
      headers: { ...headers, authorization: "Bearer nope" },
      body: "{}",
    });
    strictEqual(wrong.status, 401);
    const right = await post(`${url}${PING}`, {
      headers: { ...headers, authorization: `Bearer ${token}` },
      body: "{}",
    });
    strictEqual(right.status, 200);

    // A local client of the same user finds it with nothing configured.
    const r = await runCli(["run", "--server", url, "examples/hello.ts"], { env });
    check(r.code === 0, "run --server with the generated token", r);
    strictEqual(r.stdout, "25\n");
    // So does a plain SDK script, reattaching to a call by id.
    const dir = await Deno.makeTempDir({ prefix: "nm-token-app-" });
    const app = await writeApp(
      `import { App } from "${ROOT}sdk/mod.ts";
const app = new App("tokened");
export const sq = app.function(function sq(x: number) { return x * x; });
app.localEntrypoint(async () => { const c = await sq.spawn(7); await c.get(); console.log(c.id); });`,
      dir,
    );
    const spawned = await runCli(["run", "--server", url, app], { env });
    check(spawned.code === 0, "spawn under run", spawned);
    const script = `${dir}/client.ts`;
    await Deno.writeTextFile(
      script,
      `import { FunctionCall } from "${ROOT}sdk/mod.ts";
console.log(await FunctionCall.fromId(Deno.args[0]).get());`,
    );
    const reattached = await runDeno(["run", "-A", script, spawned.stdout.trim()], {
      env: { ...env, NANO_MODAL_SERVER: url },
    });
    check(reattached.code === 0, "a plain SDK script finds the token", reattached);
    strictEqual(reattached.stdout, "49\n");
    await Deno.remove(dir, { recursive: true });

    // Another user (here: another config dir) has no token and is refused, in one line.
    const other = await runCli(["run", "--server", url, "examples/hello.ts"], {
      env: { XDG_CONFIG_HOME: `${config}/elsewhere` },
    });
    strictEqual(other.code, 1);
    match(other.stderr, /requires a token/);
    check(!/\n\s+at /.test(other.stderr), "no stack trace", other);
  } finally {
    await proc.stop();
    await Deno.remove(config, { recursive: true });
  }
});
