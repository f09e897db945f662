// End-to-end: a plain script reaches a deployed app's class with RemoteClass.fromName.
import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import { check, ROOT, runCli, runDeno, startServe } from "./_cli.ts";
import { until } from "./_autoscale_helpers.ts";

const CLIENT = `${ROOT}tests/fixtures/cls_lookup_client.ts`;

Deno.test("RemoteClass.fromName: instances of a deployed class, by name, from a plain script", async () => {
  const env = { NANO_MODAL_TOKEN: "cls-from-name-token-0123456789" };
  const { proc, url } = await startServe(["--with-workers", "1", "--runner", "deno"], { env });
  try {
    const deployed = await runCli(
      ["deploy", "--server", url, `${ROOT}tests/fixtures/cls_lookup_app.ts`],
      { env },
    );
    check(deployed.code === 0, "deploy succeeds", deployed);
    const client = { env: { ...env, NANO_MODAL_SERVER: url }, timeoutMs: 90_000 };
    const r = await runDeno(["run", "-A", CLIENT], client);
    check(r.code === 0, "the client succeeds", r);
    // enter() ran with the constructor arguments; state lasts across inputs; arguments select
    // the instance.
    deepStrictEqual(JSON.parse(r.stdout), {
      added: 11,
      seen: [1, 2],
      other: 101,
      mapped: [11, 12, 13],
    });
    // Two instances ran (start 10 and start 100), a container each: the class's containers are
    // its instances', in `status --json` and on the dashboard (as heartbeats report them).
    let counter: { containers: number } | undefined;
    let dashboard = 0;
    await until(
      "status and the dashboard count the class's containers",
      async () => {
        const st = await runCli(["status", "--json", "--server", url], { env });
        counter = JSON.parse(st.stdout).functions.find((f: { function: string }) =>
          f.function === "Counter"
        );
        const snap = await fetch(`${url}/api/snapshot`, {
          headers: { authorization: `Bearer ${env.NANO_MODAL_TOKEN}` },
        }).then((res) => res.json());
        dashboard = snap.containers.idle + snap.containers.busy + snap.containers.starting;
        return counter?.containers === 2 && dashboard === 2;
      },
      30_000,
      () => JSON.stringify({ counter, dashboard }),
    );
    const missing = await runDeno(["run", "-A", CLIENT, "clslookup", "Countr"], client);
    strictEqual(missing.code, 1, missing.stderr);
    match(missing.stderr, /NotFoundError: Cannot find function "Countr" in app "clslookup"/);
  } finally {
    await proc.stop();
  }
});
