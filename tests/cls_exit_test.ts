// End-to-end: a class's @exit hook runs on scale-down, on `app stop` and when its worker gets
// SIGTERM, within exitGraceMs; a hook that outlasts the grace is killed. The hooks print lines
// that the test reads back with `app logs` (a control plane and a separate worker, deno runner).
import { deepStrictEqual, ok } from "node:assert/strict";
import { check, CliProcess, ROOT, runCli, runDeno, startServe } from "./_cli.ts";

const APP = `${ROOT}tests/fixtures/cls_exit_app.ts`;
const CLIENT = `${ROOT}tests/fixtures/cls_exit_client.ts`;
const env = { NANO_MODAL_TOKEN: "cls-exit-token-0123456789abcdef" };

/** Polls `app logs clsexit` until `pattern` shows; returns the logs and when it showed. */
async function logsUntil(server: string, pattern: RegExp, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let text = "";
  while (Date.now() < deadline) {
    const r = await runCli(["app", "logs", "clsexit", "--server", server], { env });
    text = r.stdout + r.stderr;
    if (pattern.test(text)) return { text, atMs: Date.now() };
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`app logs never showed ${pattern}:\n${text}`);
}

async function call(server: string, ...which: string[]): Promise<string[]> {
  const r = await runDeno(["run", "-A", CLIENT, ...which], {
    env: { ...env, NANO_MODAL_SERVER: server },
    timeoutMs: 90_000,
  });
  check(r.code === 0, "the client succeeds", r);
  return JSON.parse(r.stdout);
}

Deno.test("@exit runs on scale-down, app stop and worker SIGTERM, within exitGraceMs; past it the hook is killed", async () => {
  const { proc: server, url } = await startServe([], { env });
  const worker = new CliProcess(["worker", "--server", url, "--runner", "deno"], { env });
  try {
    await worker.waitFor(/serving|connected/i, 60_000);
    const deployed = await runCli(["deploy", "--server", url, APP], { env });
    check(deployed.code === 0, "deploy succeeds", deployed);

    // Scale-down: Idle's container stops one second after its input, and its hook runs.
    deepStrictEqual(await call(url, "Idle"), ["hello idle"]);
    await logsUntil(url, /exit hook ran: scale-down/, 15_000);

    // app stop: every container stops, each hook within its grace; Stubborn's is cut at 1 s.
    deepStrictEqual(await call(url, "Quick:stop", "Stubborn"), ["hello stop", "hello stubborn"]);
    const stop = await runCli(["app", "stop", "clsexit", "--server", url], { env });
    check(stop.code === 0, "app stop succeeds", stop);
    const stoppedMs = Date.now();
    const quick = await logsUntil(url, /exit hook ran: stop/, 10_000);
    ok(quick.atMs - stoppedMs < 5_000, "Quick's hook ran within its 5 s grace");
    await logsUntil(url, /stubborn exit started/, 10_000);
    // The hook would finish 4 s after it started: wait past that and see it never did.
    await new Promise((r) => setTimeout(r, 5_000));
    const after = await logsUntil(url, /stubborn exit started/, 1_000);
    ok(!/stubborn exit finished/.test(after.text), `killed at its grace:\n${after.text}`);

    // Worker SIGTERM: it drains, and the hooks of its containers run before it leaves.
    const redeployed = await runCli(["deploy", "--server", url, APP], { env });
    check(redeployed.code === 0, "deploy again succeeds", redeployed);
    deepStrictEqual(await call(url, "Quick:term"), ["hello term"]);
    const code = await worker.stop("SIGTERM");
    ok(code === 0 || code === 143, `the worker exits cleanly (${code})\n${worker.stderr}`);
    await logsUntil(url, /exit hook ran: term/, 10_000);
  } finally {
    await worker.stop();
    await server.stop();
  }
});
