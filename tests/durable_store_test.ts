// Durable records end to end: a real `serve --data-dir` restarted finds its bundles and apps;
// control planes on one Redis share bundles (blobs in Redis, chunked).
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { check, runCli, startServe } from "./_cli.ts";
import { startRedis } from "./_redis_server.ts";
import { create, createClient } from "../proto/deps.ts";
import { ControlService, FunctionDefSchema, WorkerService } from "../proto/messages.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { sha256Hex } from "../proto/content_hash.ts";

/** Every server here gets this token; the clients send it. */
const TOKEN = "durable-store-test-token-0123456789";

async function withClients<T>(
  url: string,
  fn: (
    control: ReturnType<typeof createClient<typeof ControlService>>,
    worker: ReturnType<typeof createClient<typeof WorkerService>>,
  ) => Promise<T>,
): Promise<T> {
  const { transport, close } = createRpcTransport({ baseUrl: url, token: TOKEN });
  try {
    return await fn(
      createClient(ControlService, transport),
      createClient(WorkerService, transport),
    );
  } finally {
    close();
  }
}

const def = create(FunctionDefSchema, {
  name: "square",
  timeoutMs: 1_000,
  memoryMib: 64,
  cpu: 1,
  concurrency: 1,
  maxContainers: 1,
});

function bundle(size: number): Uint8Array {
  return new Uint8Array(size).map((_, i) => (i * 31 + 7) % 256);
}

Deno.test("serve --data-dir, killed and restarted, finds its bundles and deployed apps; its run's apps come back stopped", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "nano_modal_serve_data_" });
  const data = bundle(100_000);
  const hash = await sha256Hex(data);
  let server = await startServe(["--data-dir", dataDir, "--token", TOKEN]);
  try {
    match(server.proc.stderr, new RegExp(`embedded store in ${dataDir}`));
    const ids = await withClients(server.url, async (control) => {
      equal((await control.putBundle({ hash, data })).present, true);
      const app = { bundleHash: hash, entryUrl: "file:///app.ts", functions: [def] };
      const kept = await control.createApp({ ...app, name: "kept", ephemeral: false });
      const run = await control.createApp({ ...app, name: "run", ephemeral: true });
      return { kept: kept.appId, run: run.appId };
    });
    equal(await server.proc.stop("SIGKILL"), 137, "killed, not shut down");
    server = await startServe(["--data-dir", dataDir, "--token", TOKEN]);
    await withClients(server.url, async (control, worker) => {
      equal((await control.putBundle({ hash, data: new Uint8Array() })).present, true);
      deepStrictEqual((await worker.getBundle({ hash })).data, data);
      const apps = new Map((await control.listApps({})).apps.map((a) => [a.appId, a]));
      equal(apps.get(ids.kept)?.stopped, false, "the deployed app is there, running");
      deepStrictEqual(apps.get(ids.kept)?.functionNames, ["square"]);
      equal(apps.get(ids.run)?.stopped, true, "the ephemeral app died with its server");
      const described = await worker.getFunction({ functionId: "fu-nope" }).catch((e) => e);
      ok(described instanceof Error, "unknown functions are still unknown");
    });
  } finally {
    await server.proc.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("two control planes on one Redis: a bundle uploaded through one serves apps and workers of the other", async () => {
  const redis = await startRedis();
  const a = await startServe(["--redis", redis.url, "--token", TOKEN]);
  const b = await startServe(["--redis", redis.url, "--token", TOKEN]);
  try {
    const data = bundle(9 * 1024 * 1024 + 3); // more than two 4 MiB chunks
    const hash = await sha256Hex(data);
    await withClients(a.url, async (control) => {
      equal((await control.putBundle({ hash, data })).present, true);
    });
    await withClients(b.url, async (control, worker) => {
      equal((await control.putBundle({ hash, data: new Uint8Array() })).present, true);
      const app = await control.createApp({
        name: "shared",
        ephemeral: false,
        bundleHash: hash,
        entryUrl: "file:///app.ts",
        functions: [def],
      });
      ok(app.appId.startsWith("ap-"));
      deepStrictEqual((await worker.getBundle({ hash })).data, data);
    });
  } finally {
    await a.proc.stop();
    await b.proc.stop();
    await redis.stop();
  }
});

Deno.test("an embedded run and a server share one data dir safely: each keeps its own apps running", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "nano_modal_shared_data_" });
  const server = await startServe(["--data-dir", dataDir, "--token", TOKEN]);
  try {
    const data = bundle(1_000);
    const hash = await sha256Hex(data);
    const served = await withClients(server.url, async (control) => {
      await control.putBundle({ hash, data });
      const app = { bundleHash: hash, entryUrl: "file:///app.ts", functions: [def] };
      return (await control.createApp({ ...app, name: "served", ephemeral: true })).appId;
    });
    const env = { NANO_MODAL_DATA_DIR: dataDir };
    const r = await runCli(["run", "--runner", "deno", "examples/hello.ts"], { env });
    check(r.code === 0 && r.stdout.trim() === "25", "the embedded run works", r);
    await withClients(server.url, async (control) => {
      const apps = (await control.listApps({})).apps;
      equal(apps.find((a) => a.appId === served)?.stopped, false, "the server's app lives on");
      const hello = apps.filter((a) => a.name === "hello");
      equal(hello.length, 1, "the run's app is recorded in the shared data dir");
      equal(hello[0].stopped, true, "and stopped when the run ended");
    });
  } finally {
    await server.proc.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
