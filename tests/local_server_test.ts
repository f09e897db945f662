/**
 * A `nano-modal serve` running on this machine is used by commands that name
 * no server: `run` (whose app then starts on the server's warm sandboxes),
 * `app list`, `deploy`, and a plain script's `RemoteFunction.fromName`; `--runner` still asks for an embedded worker; once the server
 * stops, nothing points at it.
 */
import { match, ok } from "node:assert/strict";
import { check, runCli, runDeno, startServe } from "./_cli.ts";

Deno.test("commands that name no server use the local `serve`, until it stops", async () => {
  const { proc, url } = await startServe(["--with-workers", "--runner", "deno"]);
  const port = new URL(url).port;
  try {
    const r = await runCli(["run", "examples/hello.ts"]);
    check(r.code === 0 && r.stdout.trim() === "25", "run on the local server", r);
    match(r.stderr, new RegExp(`using the local server at http://127\\.0\\.0\\.1:${port}\\n`));
    const list = await runCli(["app", "list"]);
    check(list.code === 0 && /^hello\s+ephemeral\s.*stopped/m.test(list.stdout), "app list", list);

    // Deployed and called by name from a plain script, neither naming a server.
    const deployed = await runCli(["deploy", "examples/deploy.ts"]);
    check(deployed.code === 0, "deploy on the local server", deployed);
    const called = await runDeno([
      "run",
      "-A",
      "tests/fixtures/lookup_client.ts",
      "remote",
      "words",
      "countWord",
      JSON.stringify(["a b a", "a"]),
    ]);
    check(called.code === 0 && called.stdout.trim() === "2", "a plain script's call", called);

    const embedded = await runCli(["run", "--runner", "deno", "examples/hello.ts"]);
    check(embedded.code === 0 && embedded.stdout.trim() === "25", "--runner: embedded", embedded);
    ok(!embedded.stderr.includes("local server"), embedded.stderr);
  } finally {
    await proc.stop();
  }
  const after = await runCli(["app", "list"]);
  check(after.code !== 0, "no server after it stopped", after);
  match(after.stderr, /needs a running control plane: start one with `nano-modal serve`/);
});

Deno.test("a local `serve` without workers is not where `run` runs: it says so and runs here", async () => {
  const { proc, url } = await startServe();
  try {
    const r = await runCli(["run", "examples/hello.ts"], { env: { NANO_MODAL_RUNNER: "deno" } });
    check(r.code === 0 && r.stdout.trim() === "25", "run here", r);
    match(
      r.stderr,
      new RegExp(`the local server at ${url.replaceAll(".", "\\.")} runs no workers`),
    );
    // Other commands still use it.
    const list = await runCli(["app", "list"]);
    check(list.code === 0, "app list on the local server", list);
  } finally {
    await proc.stop();
  }
});

Deno.test("secret and volume commands use the local serve unless a data dir other than its own is named", async () => {
  const own = await Deno.makeTempDir({ prefix: "nm-local-data-" });
  const { proc, url } = await startServe(["--data-dir", own]);
  try {
    // No data dir named: the local server's store.
    const viaServer = await runCli(["secret", "create", "via-server", "A=1"], {
      env: { NANO_MODAL_DATA_DIR: "" },
    });
    check(viaServer.code === 0, "secret create through the local server", viaServer);
    // Its own data dir named: the same server.
    const same = await runCli(["secret", "create", "same-dir", "A=1", "--data-dir", own]);
    check(same.code === 0, "secret create naming the server's data dir", same);
    // Another data dir (this test file's, from NANO_MODAL_DATA_DIR): that one, not the server's.
    const other = await runCli(["secret", "create", "other-dir", "A=1"]);
    check(other.code === 0, "secret create in another data dir", other);
    const list = await runCli(["secret", "list", "--server", url]);
    check(list.code === 0, "secret list", list);
    match(list.stdout, /via-server/);
    match(list.stdout, /same-dir/);
    ok(!list.stdout.includes("other-dir"), list.stdout);
  } finally {
    await proc.stop();
    await Deno.remove(own, { recursive: true });
  }
});
