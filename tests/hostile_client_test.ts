// Hostile clients against the control plane: no token or the wrong one, huge bodies, slow
// headers, idle connections, a client's token on worker RPCs (the generated token:
// generated_token_test.ts). Every loop is bounded in count and time; all traffic stays on
// loopback.
import { match, ok, strictEqual } from "node:assert/strict";
import { Code, ConnectError, createClient } from "../proto/deps.ts";
import { ControlService, WorkerService } from "../proto/messages.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { createMemoryStore, startServer } from "../control/mod.ts";
import { check, CliProcess, runCli, startServe } from "./_cli.ts";

const CREATE_APP = "/nanomodal.v1.ControlService/CreateApp";
const CALL = "/nanomodal.v1.ControlService/Call";
const PING = "/nanomodal.v1.ControlService/Ping";

/** 60 MB of the smallest unknown protobuf field (number 15, varint 0), two bytes each. */
function tinyUnknownFields(bytes = 60_000_000): Uint8Array<ArrayBuffer> {
  const body = new Uint8Array(bytes);
  for (let i = 0; i < body.length; i += 2) body[i] = 0x78;
  return body;
}

/** Peak resident memory of a process, in MB. */
async function peakRssMb(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(status.match(/^VmHWM:\s+(\d+) kB/m)![1]) / 1024;
}

async function post(url: string, init: RequestInit & { client?: Deno.HttpClient }) {
  const started = performance.now();
  const res = await fetch(url, { method: "POST", ...init } as RequestInit);
  const body = await res.text();
  return { status: res.status, body, ms: performance.now() - started };
}

/** Resolves with how the connection ended: "closed" when the server hung up, else "open". */
async function waitForClose(conn: Deno.Conn, withinMs: number): Promise<"closed" | "open"> {
  const buf = new Uint8Array(4096);
  const deadline = Date.now() + withinMs;
  const timeout = new Promise<"open">((r) => setTimeout(() => r("open"), withinMs));
  try {
    while (Date.now() < deadline) {
      const n = await Promise.race([conn.read(buf).catch(() => null), timeout]);
      if (n === "open") return "open";
      if (n === null) return "closed";
      // Bytes (an HTTP/2 SETTINGS frame, say): keep reading until EOF or the deadline.
    }
    return "open";
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

Deno.test("an unauthenticated 60 MB body of tiny unknown fields gets 401 at once over HTTP/1.1 and HTTP/2, with flat memory", async () => {
  const token = crypto.randomUUID();
  const { proc, url } = await startServe([], { env: { NANO_MODAL_TOKEN: token } });
  const h2 = Deno.createHttpClient({ http1: false, http2: true });
  try {
    const before = await peakRssMb(proc.child.pid);
    const body = tinyUnknownFields();
    for (const client of [undefined, h2]) {
      for (const auth of [undefined, "Bearer wrong"]) {
        const headers: Record<string, string> = { "content-type": "application/proto" };
        if (auth) headers.authorization = auth;
        const res = await post(`${url}${CREATE_APP}`, { headers, body, client });
        strictEqual(res.status, 401, res.body);
        ok(res.ms < 5_000, `answered in ${res.ms.toFixed(0)} ms`);
      }
    }
    const growth = (await peakRssMb(proc.child.pid)) - before;
    ok(growth < 100, `peak memory grew ${growth.toFixed(0)} MB for four 60 MB bodies`);
    const ping = await post(`${url}${PING}`, {
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: "{}",
    });
    strictEqual(ping.status, 200, "still serving");
  } finally {
    h2.close();
    await proc.stop();
  }
});

Deno.test("with the token, a big body is refused where none belongs, and unknown fields are not kept where one does", async () => {
  const token = crypto.randomUUID();
  const { proc, url } = await startServe([], { env: { NANO_MODAL_TOKEN: token } });
  try {
    const headers = { "content-type": "application/proto", authorization: `Bearer ${token}` };
    const before = await peakRssMb(proc.child.pid);
    // CreateApp carries no user data: 1 MiB at most, refused from its declared length.
    const small = await post(`${url}${CREATE_APP}`, {
      headers,
      body: tinyUnknownFields(2_000_000),
    });
    strictEqual(small.status, 429, small.body);
    match(small.body, /resource_exhausted/);
    // Call carries arguments and may be large; 60 MB of unknown fields decode to nothing kept.
    const big = await post(`${url}${CALL}`, { headers, body: tinyUnknownFields() });
    ok(big.status >= 400 && big.status < 500, `HTTP ${big.status}: ${big.body}`);
    const growth = (await peakRssMb(proc.child.pid)) - before;
    ok(growth < 400, `peak memory grew ${growth.toFixed(0)} MB for a 60 MB body`);
  } finally {
    await proc.stop();
  }
});

Deno.test("slow headers and idle connections are closed, extra connections refused, and real clients still served", async () => {
  const store = createMemoryStore();
  const server = await startServer({
    store,
    port: 0,
    headerTimeoutMs: 300,
    idleTimeoutMs: 1_000,
    maxConnections: 60,
  });
  const port = server.port;
  const enc = new TextEncoder();
  try {
    // Connects and never speaks; half a request line; an HTTP/2 preface with no request.
    const silent = await Deno.connect({ hostname: "127.0.0.1", port });
    const partial = await Deno.connect({ hostname: "127.0.0.1", port });
    await partial.write(enc.encode(`POST ${PING} HTTP/1.1\r\nHost: x\r\n`));
    const preface = await Deno.connect({ hostname: "127.0.0.1", port });
    await preface.write(enc.encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    strictEqual(await waitForClose(silent, 5_000), "closed", "a silent connection");
    strictEqual(await waitForClose(partial, 5_000), "closed", "half a request");
    strictEqual(await waitForClose(preface, 5_000), "closed", "an HTTP/2 preface alone");

    // A keep-alive connection that made one request and then went quiet.
    const kept = await Deno.connect({ hostname: "127.0.0.1", port });
    const body = "{}";
    await kept.write(enc.encode(
      `POST ${PING} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    ));
    strictEqual(await waitForClose(kept, 6_000), "closed", "an idle keep-alive connection");

    // A crowd of idle connections: beyond the limit they are closed at once, the rest soon.
    const crowd: Deno.Conn[] = [];
    for (let i = 0; i < 100; i++) crowd.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    const ends = await Promise.all(crowd.map((c) => waitForClose(c, 5_000)));
    strictEqual(ends.filter((e) => e === "open").length, 0, "every idle connection was closed");

    const { transport, close } = createRpcTransport({ baseUrl: server.url });
    try {
      strictEqual((await createClient(ControlService, transport).ping({})).backend, "memory");
    } finally {
      close();
    }
  } finally {
    await server.close();
    await store.close();
  }
});

Deno.test("with a worker token, the cluster token cannot open worker RPCs and the worker token cannot act as a client", async () => {
  const store = createMemoryStore();
  const server = await startServer({ store, port: 0, token: "cluster", workerToken: "worker" });
  const as = (token: string) => createRpcTransport({ baseUrl: server.url, token });
  const clusterRpc = as("cluster");
  const workerRpc = as("worker");
  const refused = (e: unknown) => e instanceof ConnectError && e.code === Code.Unauthenticated;
  try {
    const workerAsCluster = createClient(WorkerService, clusterRpc.transport);
    await workerAsCluster.getBundle({ hash: "0".repeat(64) }).then(
      () => ok(false, "GetBundle with the cluster token"),
      (e) => ok(refused(e), String(e)),
    );
    await workerAsCluster.getFunction({ functionId: "fn-x" }).then(
      () => ok(false, "GetFunction with the cluster token"),
      (e) => ok(refused(e), String(e)),
    );
    const stream = workerAsCluster.work((async function* () {
      yield { msg: { case: "hello" as const, value: { workerId: "thief", capacity: 100 } } };
      await new Promise((r) => setTimeout(r, 200));
    })());
    await (async () => {
      for await (const _ of stream) ok(false, "a work stream opened with the cluster token");
    })().then(() => ok(false, "the work stream ended without an error"), (e) => ok(refused(e)));

    // The worker token opens worker RPCs (here: a bundle that does not exist)...
    await createClient(WorkerService, workerRpc.transport).getBundle({ hash: "0".repeat(64) })
      .then(() => {}, (e) => ok(!refused(e), `the worker token is let in: ${e}`));
    // ...and nothing else; the cluster token still opens client RPCs.
    await createClient(ControlService, workerRpc.transport).ping({}).then(
      () => ok(false, "Ping with the worker token"),
      (e) => ok(refused(e)),
    );
    strictEqual(
      (await createClient(ControlService, clusterRpc.transport).ping({})).backend,
      "memory",
    );
  } finally {
    clusterRpc.close();
    workerRpc.close();
    await server.close();
    await store.close();
  }
});

Deno.test("serve --worker-token: workers need it, clients use the cluster token, and a map runs", async () => {
  const env = { NANO_MODAL_TOKEN: "cluster-token-0123456789" };
  const { proc, url } = await startServe(["--worker-token", "worker-token-0123456789"], { env });
  const worker = new CliProcess(["worker", "--server", url, "--runner", "deno"], {
    env: { NANO_MODAL_WORKER_TOKEN: "worker-token-0123456789" },
  });
  try {
    const thief = await runCli(["worker", "--server", url, "--runner", "deno"], {
      env,
      timeoutMs: 30_000,
    });
    strictEqual(thief.code, 1);
    match(thief.stderr, /refused the worker's token/);
    await worker.waitFor(/serving/);
    const r = await runCli(["run", "--server", url, "examples/parallel.ts", "--", "5"], { env });
    check(r.code === 0, "run with the cluster token", r);
    strictEqual(r.stdout.split("\n")[0], "0 1 4 9 16");
  } finally {
    await worker.stop("SIGTERM");
    await proc.stop();
  }
});

Deno.test("a body that does not parse gets a 400 over HTTP/2 too, not a protocol error", async () => {
  const store = createMemoryStore();
  const server = await startServer({ store, port: 0 });
  const h2 = Deno.createHttpClient({ http1: false, http2: true });
  try {
    for (const client of [undefined, h2]) {
      const res = await post(`${server.url}${CREATE_APP}`, {
        headers: { "content-type": "application/proto" },
        body: new Uint8Array([0xff, 0xff, 0xff]),
        client,
      });
      strictEqual(res.status, 400, res.body);
      match(res.body, /invalid_argument/);
    }
  } finally {
    h2.close();
    await server.close();
    await store.close();
  }
});
