import { ok, rejects, strictEqual } from "node:assert/strict";
import { Code, ConnectError, create, createClient, toBinary } from "./deps.ts";
import { GetBundleResponseSchema, WorkerService } from "./messages.ts";
import { createRpcTransport } from "./transport.ts";

Deno.test("unary calls over fetch: the Connect wire format both ways, and its errors", async () => {
  const seen: { type: string | null; auth: string | null; version: string | null }[] = [];
  const server = Deno.serve({ port: 0, onListen() {} }, async (req) => {
    seen.push({
      type: req.headers.get("content-type"),
      auth: req.headers.get("authorization"),
      version: req.headers.get("connect-protocol-version"),
    });
    const path = new URL(req.url).pathname;
    await req.arrayBuffer();
    if (path.endsWith("/GetBundle")) {
      const body = toBinary(
        GetBundleResponseSchema,
        create(GetBundleResponseSchema, { data: new Uint8Array([7]) }),
      );
      return new Response(body, { headers: { "content-type": "application/proto" } });
    }
    if (path.endsWith("/GetFunction")) {
      return Response.json({ code: "not_found", message: "no such function" }, { status: 404 });
    }
    if (path.endsWith("/GetSecretEnv")) return new Response("bad gateway", { status: 502 });
    await new Promise((r) => setTimeout(r, 300)); // NestedCall: too slow for its caller
    return new Response(null, { status: 500 });
  });
  const { transport, close } = createRpcTransport({
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    token: "t0ken-t0ken-t0ken",
  });
  try {
    const client = createClient(WorkerService, transport);
    const res = await client.getBundle({ hash: "abc" });
    strictEqual(res.data[0], 7);
    strictEqual(seen[0].type, "application/proto");
    strictEqual(seen[0].auth, "Bearer t0ken-t0ken-t0ken");
    strictEqual(seen[0].version, "1");
    await rejects(client.getFunction({ functionId: "fu-x" }), (e) => {
      ok(e instanceof ConnectError);
      strictEqual(e.code, Code.NotFound);
      strictEqual(e.rawMessage, "no such function");
      return true;
    });
    await rejects(client.getSecretEnv({}), (e) => (e as ConnectError).code === Code.Unavailable);
    const abort = new AbortController();
    const call = client.nestedCall({}, { signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    await rejects(call, (e) => (e as ConnectError).code === Code.Canceled);
    await rejects(
      client.nestedCall({}, { timeoutMs: 50 }),
      (e) => (e as ConnectError).code === Code.DeadlineExceeded,
    );
  } finally {
    close();
    await server.shutdown();
  }
});
