// End-to-end: `serve` as its own process, clients and workers talking to it over Connect/h2c.
import { match, strictEqual } from "node:assert/strict";
import { check, CliProcess, runCli, startServe } from "./_cli.ts";

Deno.test("serve --with-workers, then run --server prints 25", async () => {
  const { proc, url } = await startServe(["--with-workers", "--runner", "deno"]);
  try {
    const r = await runCli(["run", "--server", url, "examples/hello.ts"]);
    check(r.code === 0, "exit code 0", r);
    strictEqual(r.stdout, "25\n");
    const viaEnv = await runCli(["run", "examples/hello.ts"], { env: { NANO_MODAL_SERVER: url } });
    check(viaEnv.code === 0, "exit code 0 with NANO_MODAL_SERVER", viaEnv);
    strictEqual(viaEnv.stdout, "25\n");
    const features = await runCli(["run", "--server", url, "tests/fixtures/features.ts"]);
    check(features.code === 0, "features exit code 0", features);
    match(features.stdout, /^spawn: 81$/m);
    match(features.stdout, /^\[shout\] hello from sandbox$/m);
  } finally {
    await proc.stop();
  }
});

Deno.test("serve with a separate worker process runs maps across it", async () => {
  const { proc, url } = await startServe();
  const worker = new CliProcess(["worker", "--server", url, "--runner", "deno"]);
  try {
    await worker.waitFor(/serving/);
    const r = await runCli(["run", "--server", url, "examples/parallel.ts", "--", "12"]);
    check(r.code === 0, "exit code 0", r);
    strictEqual(r.stdout.split("\n")[0], "0 1 4 9 16 25 36 49 64 81 100 121");
  } finally {
    strictEqual(await worker.stop("SIGTERM"), 0);
    await proc.stop();
  }
});

Deno.test("with NANO_MODAL_TOKEN set, clients and workers need the token", async () => {
  const token = crypto.randomUUID();
  const { proc, url } = await startServe(["--with-workers", "--runner", "deno"], {
    env: { NANO_MODAL_TOKEN: token },
  });
  try {
    const none = await runCli(["run", "--server", url, "examples/hello.ts"]);
    strictEqual(none.code, 1);
    match(none.stderr, /requires a token|is not this server's/);
    check(!/\n\s+at /.test(none.stderr), "no stack trace", none);
    const wrong = await runCli(["run", "--server", url, "examples/hello.ts"], {
      env: { NANO_MODAL_TOKEN: "not-the-servers-token" },
    });
    strictEqual(wrong.code, 1);
    match(wrong.stderr, /token/);
    const right = await runCli(["run", "--server", url, "examples/hello.ts"], {
      env: { NANO_MODAL_TOKEN: token },
    });
    check(right.code === 0, "exit code 0 with the token", right);
    strictEqual(right.stdout, "25\n");
    const worker = await runCli(["worker", "--server", url, "--runner", "deno"], {
      timeoutMs: 30_000,
    });
    strictEqual(worker.code, 1);
    match(worker.stderr, /refused the worker's token/);
  } finally {
    await proc.stop();
  }
});

Deno.test("serve refuses to listen beyond loopback without a token", async () => {
  const r = await runCli(["serve", "--host", "0.0.0.0", "--port", "0"]);
  strictEqual(r.code, 1);
  match(r.stderr, /^error: Refusing to listen on 0\.0\.0\.0 without a token/);
});

Deno.test("serve --results-mib: the oldest results are evicted, and fetching one says so", async () => {
  const { proc, url } = await startServe(
    ["--with-workers", "--runner", "deno", "--results-mib", "1"],
  );
  try {
    const r = await runCli(["run", "--server", url, "tests/fixtures/evicted_results.ts"]);
    check(r.code === 0, "exit code 0", r);
    match(r.stdout, /^first: 1$/m);
    match(r.stdout, /^call 5: 5$/m);
    match(r.stdout, /^first again: NotFoundError$/m);
    match(r.stdout, /^message: .*was evicted.*--results-mib/m);
  } finally {
    await proc.stop();
  }
});
