// Secrets and volumes on the embedded store's data dir: the CLI without a server writes
// there, an embedded `run` finds it, and a restarted `serve` keeps it all.
import { match, ok } from "node:assert/strict";
import { check, ROOT, runCli } from "./_cli.ts";
import { startStack } from "./_state_stack.ts";

const APP = `${ROOT}tests/fixtures/volume_app.ts`;

Deno.test("the CLI with no server keeps secrets and volumes in the data dir, where run and a restarted serve find them", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "nm-state-durable-" });
  const env = { NANO_MODAL_DATA_DIR: dataDir };
  const local = (args: string[]) => runCli(args, { env, timeoutMs: 240_000 });
  try {
    let r = await local(["secret", "create", "kept", "K=on-disk-value"]);
    check(r.code === 0, "secret create without a server", r);
    r = await local(["volume", "create", "dur"]);
    check(r.code === 0, "volume create without a server", r);
    const src = `${dataDir}/../nm-durable-src-${crypto.randomUUID().slice(0, 6)}`;
    await Deno.mkdir(`${src}/writers`, { recursive: true });
    await Deno.writeTextFile(`${src}/writers/from-cli.txt`, "cli");
    r = await local(["volume", "put", "dur", `${src}/writers`, "/"]);
    check(r.code === 0, "volume put without a server", r);
    await Deno.remove(src, { recursive: true });
    const db = new TextDecoder("latin1").decode(await Deno.readFile(`${dataDir}/state.db`));
    ok(db.includes("kept") && !db.includes("on-disk-value"), "the value is sealed at rest");

    // An embedded run on the same data dir sees the volume.
    r = await runCli(["run", "--runner", "docker", APP, "--", "look"], {
      env: { ...env, VOL: "dur" },
      timeoutMs: 240_000,
    });
    check(r.code === 0 && /seen 1\n/.test(r.stdout), "embedded run reads the volume", r);

    // serve on the data dir, stopped and started again, keeps both.
    for (let round = 0; round < 2; round++) {
      const stack = await startStack(["docker"], [], env);
      try {
        r = await stack.cli(["secret", "list"]);
        check(/kept\s.*K/.test(r.stdout), `secret kept (round ${round})`, r);
        r = await runCli(["run", "--server", stack.url, APP, "--", "look"], {
          env: { ...env, VOL: "dur" },
          timeoutMs: 240_000,
        });
        check(r.code === 0, "look runs", r);
        match(r.stdout, round === 0 ? /seen 1\n/ : /seen 13\n/);
        if (round === 0) {
          r = await runCli(["run", "--server", stack.url, APP, "--", "writers"], {
            env: { ...env, VOL: "dur" },
            timeoutMs: 240_000,
          });
          check(r.code === 0 && /seen 13/.test(r.stdout), "writers add 12", r);
        }
      } finally {
        await stack.stop();
      }
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
