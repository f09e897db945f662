// Bad input on the wire: every RPC gets garbage, malformed messages, absurd lengths and
// oversized bodies; each gets a 4xx Connect error (never a 5xx or a crash) and the server
// still serves real clients afterwards.
import { ok, strictEqual } from "node:assert/strict";
import { createClient } from "../proto/deps.ts";
import { ControlService, WorkerService } from "../proto/messages.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { createMemoryStore, startServer } from "../control/mod.ts";
import { startEmbedded } from "../cli/mod.ts";
import { DenoRunner } from "../runner/mod.ts";
import { check, runCli } from "./_cli.ts";

const EXPECTED_CODES = new Set([
  "invalid_argument",
  "resource_exhausted",
  "not_found",
  "unauthenticated",
  "failed_precondition",
  "unimplemented",
]);

const paths = [ControlService, WorkerService].flatMap((svc) =>
  Object.values(svc.method).map((m) => ({
    path: `/${svc.typeName}/${m.name}`,
    streaming: m.methodKind !== "unary",
  }))
);

/** The Connect error code of a response, from its JSON body or its end-of-stream message. */
async function errorCode(res: Response): Promise<string | undefined> {
  const body = new Uint8Array(await res.arrayBuffer());
  const type = res.headers.get("content-type") ?? "";
  if (type.startsWith("application/connect+")) {
    // Find the end-stream envelope (flag 0x02) and read its JSON.
    for (let i = 0; i + 5 <= body.length;) {
      const flags = body[i];
      const len = new DataView(body.buffer, body.byteOffset + i + 1, 4).getUint32(0);
      const payload = body.subarray(i + 5, i + 5 + len);
      if (flags & 0x02) return JSON.parse(new TextDecoder().decode(payload)).error?.code;
      i += 5 + len;
    }
    return undefined;
  }
  try {
    return JSON.parse(new TextDecoder().decode(body)).code;
  } catch {
    return `unparsable body, status ${res.status}`;
  }
}

function envelope(payload: Uint8Array, declaredLength = payload.length): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(1, declaredLength);
  out.set(payload, 5);
  return out;
}

async function expectClientError(url: string, init: RequestInit, what: string): Promise<string> {
  const res = await fetch(url, { method: "POST", ...init });
  ok(res.status < 500, `${what}: HTTP ${res.status}`);
  const code = await errorCode(res);
  ok(code && EXPECTED_CODES.has(code), `${what}: got code ${code} (HTTP ${res.status})`);
  return code!;
}

Deno.test("garbage, malformed messages and absurd lengths to every RPC get 4xx Connect errors", async () => {
  const store = createMemoryStore();
  const server = await startServer({ store, port: 0, maxMessageBytes: 1024 * 1024 });
  try {
    const garbage = crypto.getRandomValues(new Uint8Array(257));
    for (let round = 0; round < 5; round++) {
      for (const { path, streaming } of paths) {
        const url = `${server.url}${path}`;
        const proto = streaming ? "application/connect+proto" : "application/proto";
        const json = streaming ? "application/connect+json" : "application/json";
        const body = streaming ? envelope(garbage) : garbage;
        await expectClientError(
          url,
          { headers: { "content-type": proto }, body },
          `${path} garbage`,
        );
        const badJson = new TextEncoder().encode('{"functionId": [1, 2, {');
        await expectClientError(
          url,
          { headers: { "content-type": json }, body: streaming ? envelope(badJson) : badJson },
          `${path} malformed JSON`,
        );
        const wrongTypes = new TextEncoder().encode(
          '{"hash": 42, "name": {"x": 1}, "args": "%%%"}',
        );
        await expectClientError(
          url,
          {
            headers: { "content-type": json },
            body: streaming ? envelope(wrongTypes) : wrongTypes,
          },
          `${path} wrong field types`,
        );
        if (streaming) {
          const code = await expectClientError(
            url,
            { headers: { "content-type": proto }, body: envelope(new Uint8Array(3), 0xffffffff) },
            `${path} absurd length prefix`,
          );
          strictEqual(code, "resource_exhausted", `${path} absurd length`);
        }
      }
    }
    const unknown = await fetch(`${server.url}/nanomodal.v1.ControlService/Nope`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array(1),
    });
    strictEqual(unknown.status, 404);
    strictEqual(await errorCode(unknown), "not_found");
    // `/` is the dashboard (DESIGN.md §4); any other path that is no RPC is a 404.
    const root = await fetch(`${server.url}/`);
    strictEqual(root.status, 200);
    strictEqual(root.headers.get("content-type"), "text/html; charset=utf-8");
    await root.body?.cancel();
    const nothing = await fetch(`${server.url}/nothing-here`);
    strictEqual(nothing.status, 404);
    await nothing.body?.cancel();

    // Semantically bad but well-formed requests are invalid_argument / not_found too.
    const { transport, close } = createRpcTransport({ baseUrl: server.url });
    try {
      const client = createClient(ControlService, transport);
      for (
        const attempt of [
          () => client.putBundle({ hash: "zz" }),
          () => client.putBundle({ hash: "a".repeat(64), data: new Uint8Array([1]) }),
          () => client.createApp({ name: "x", bundleHash: "b".repeat(64) }),
          () => client.spawn({ functionId: "fu-doesnotexist" }),
          () => client.spawn({ functionId: "../../etc/passwd" }),
          () => client.awaitCall({ callId: "fc-nothing" }),
          () => client.stopApp({ appId: "" }),
        ]
      ) {
        const err = await attempt().then(() => undefined, (e) => e);
        ok(err, "a bad request is refused");
        ok(
          [3, 5, 9].includes(err.code),
          `refused with a client error code, got ${err.code}: ${err.message}`,
        );
      }
      strictEqual((await client.ping({})).backend, "memory");
    } finally {
      close();
    }
  } finally {
    await server.close();
    await store.close();
  }
});

Deno.test("a body over the size limit is refused without being read whole", async () => {
  const store = createMemoryStore();
  const server = await startServer({ store, port: 0, maxMessageBytes: 1024 * 1024 });
  try {
    // Declared oversize: refused from the header alone.
    const declared = await fetch(`${server.url}/nanomodal.v1.ControlService/PutBundle`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array(2 * 1024 * 1024),
    });
    strictEqual(declared.status, 429);
    strictEqual(await errorCode(declared), "resource_exhausted");

    // Undeclared (chunked) and endless: the server must answer long before 1 GiB is sent.
    let sent = 0;
    const chunk = new Uint8Array(64 * 1024);
    const endless = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent >= 1024 * 1024 * 1024) return ctl.close();
        sent += chunk.length;
        ctl.enqueue(chunk);
      },
    });
    const res = await fetch(`${server.url}/nanomodal.v1.ControlService/PutBundle`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: endless,
    }).catch((err) => err as Error);
    if (res instanceof Response) {
      ok(res.status < 500, `HTTP ${res.status}`);
      strictEqual(await errorCode(res), "resource_exhausted");
    }
    ok(sent < 256 * 1024 * 1024, `server stopped reading early (client sent ${sent} bytes)`);
  } finally {
    await server.close();
    await store.close();
  }
});

Deno.test("tokens are checked on every RPC, and hundreds of idle connections do not starve real clients", async () => {
  const token = crypto.randomUUID();
  const embedded = await startEmbedded({
    store: createMemoryStore(),
    runner: new DenoRunner({ denoDir: `${Deno.env.get("HOME")}/.cache/nano-modal/deno` }),
    workers: 1,
    token,
  });
  const idle: Deno.Conn[] = [];
  try {
    for (const { path, streaming } of paths) {
      const res = await fetch(`${embedded.url}${path}`, {
        method: "POST",
        headers: {
          "content-type": streaming ? "application/connect+json" : "application/json",
          authorization: "Bearer wrong",
        },
        body: streaming ? envelope(new TextEncoder().encode("{}")) : "{}",
      });
      strictEqual(await errorCode(res), "unauthenticated", path);
    }
    const port = Number(new URL(embedded.url).port);
    for (let i = 0; i < 300; i++) idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    // Half-sent requests hold their connections open too.
    for (const conn of idle.slice(0, 100)) {
      await conn.write(
        new TextEncoder().encode("POST /nanomodal.v1.ControlService/Ping HTTP/1.1\r\n"),
      );
    }
    const started = performance.now();
    const r = await runCli(["run", "--server", embedded.url, "examples/hello.ts"], {
      // Through the public port and its gate, not the same-user socket shortcut.
      env: { NANO_MODAL_TOKEN: token, NANO_MODAL_LOCAL_SOCKET: "0" },
    });
    check(r.code === 0, "a real client still gets its answer", r);
    strictEqual(r.stdout, "25\n");
    ok(performance.now() - started < 15_000, "promptly");
  } finally {
    for (const conn of idle) conn.close();
    await embedded.close();
  }
});
