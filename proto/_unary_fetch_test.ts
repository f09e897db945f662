import { strictEqual } from "node:assert/strict";
import { create, createClient, toBinary } from "./deps.ts";
import { checkUnaryCases, type Seen, unaryCasesHandler } from "./_unary_cases.ts";
import { GetBundleResponseSchema, WorkerService } from "./messages.ts";
import { createRpcTransport } from "./transport.ts";

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
