// End-to-end: the rough edges a new user met (issue 12), as the user sees them.
import { match, strictEqual } from "node:assert/strict";
import { check, runCli } from "./_cli.ts";

Deno.test("a remote error keeps its cause chain, retries are announced, typed flags parse", async () => {
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
