import { strictEqual } from "node:assert/strict";
import { create, createClient, toBinary } from "./deps.ts";
import { checkUnaryCases, type Seen, unaryCasesHandler } from "./_unary_cases.ts";
import { GetBundleResponseSchema, WorkerService } from "./messages.ts";
import { createRpcTransport } from "./transport.ts";
import { localSocketFor } from "./local_socket.ts";

Deno.test("unary calls over fetch: the Connect wire format both ways, and its errors", async () => {
  const seen: Seen = [];
  const bundle = toBinary(
    GetBundleResponseSchema,
    create(GetBundleResponseSchema, { data: new Uint8Array([7]) }),
  );
  const server = Deno.serve(
    { port: 0, onListen() {} },
    unaryCasesHandler(
      seen,
      () => new Response(bundle, { headers: { "content-type": "application/proto" } }),
    ),
  );
  const { transport, close } = createRpcTransport({
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    token: "t0ken-t0ken-t0ken",
  });
  try {
    const client = createClient(WorkerService, transport);
    const res = await client.getBundle({ hash: "abc" });
    strictEqual(res.data[0], 7);
    await checkUnaryCases(client, seen);
  } finally {
    close();
    await server.shutdown();
  }
});

Deno.test("openStreams pings over the streams' HTTP/2 connection once, with the token", async () => {
  const pings: { path: string; auth: string | null }[] = [];
  const serve = () =>
    Deno.serve({ port: 0, onListen() {} }, (req) => {
      pings.push({ path: new URL(req.url).pathname, auth: req.headers.get("authorization") });
      return new Response(new Uint8Array(0), { headers: { "content-type": "application/proto" } });
    });
  // A port no other test's server announced a local socket for (the transport would use it).
  let server = serve();
  while (localSocketFor(new URL(`http://127.0.0.1:${server.addr.port}`))) {
    const taken = server;
    server = serve();
    await taken.shutdown();
  }
  const { openStreams, close } = createRpcTransport({
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    token: "t0ken-t0ken-t0ken",
  });
  try {
    openStreams();
    openStreams(); // once per transport
    for (let i = 0; i < 1000 && pings.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 50));
    strictEqual(pings.length, 1);
    strictEqual(pings[0].path, "/nanomodal.v1.ControlService/Ping");
    strictEqual(pings[0].auth, "Bearer t0ken-t0ken-t0ken");
  } finally {
    close();
    await server.shutdown();
  }
});
