// The fast unary path answers exactly as connect-es does: the same status, content type and
// bytes for answers and for every kind of error. Each case is sent twice, once as the fast
// path takes it and once with a deadline header, which sends it through connect-es.
import { deepStrictEqual, equal } from "node:assert/strict";
import { Code, ConnectError, create, toBinary } from "../proto/deps.ts";
import { ControlService, PingRequestSchema, PingResponseSchema } from "../proto/messages.ts";
import { RpcRouter } from "./_http.ts";
import { backendOutages, translate } from "./_outages.ts";

const PATH = "/nanomodal.v1.ControlService/Ping";

function handlerFor(ping: () => unknown) {
  const router = new RpcRouter({
    maxMessageBytes: 1024,
    interceptors: [backendOutages()],
    translate,
  });
  const unimplemented = () => {
    throw new ConnectError("not in this test", Code.Unimplemented);
  };
  const impl = Object.fromEntries(
    Object.values(ControlService.method).map((m) => [m.localName, unimplemented]),
  );
  router.service(ControlService, { ...impl, ping });
  return router.handler({});
}

async function both(ping: () => unknown, body: Uint8Array) {
  const handler = handlerFor(ping);
  const send = async (headers: Record<string, string>) => {
    const res = await handler(
      new Request(`http://x${PATH}`, {
        method: "POST",
        // As it arrives through Deno.serve (a Request made here has no content-length).
        headers: {
          "content-type": "application/proto",
          "content-length": String(body.length),
          ...headers,
        },
        body: body as Uint8Array<ArrayBuffer>,
      }),
    );
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      body: new Uint8Array(await res.arrayBuffer()),
    };
  };
  return { fast: await send({}), connect: await send({ "connect-timeout-ms": "60000" }) };
}

const empty = toBinary(PingRequestSchema, create(PingRequestSchema, {}));

const outage = Object.assign(new Error("Redis at 127.0.0.1:1 is unreachable"), {
  name: "RedisUnavailableError",
});

const cases: [string, () => unknown, Uint8Array][] = [
  ["an answer", () => create(PingResponseSchema, { version: "v", backend: "memory" }), empty],
  ["an answer given as a plain object", () => ({ version: "v" }), empty],
  ["a ConnectError", () => {
    throw new ConnectError("no such call", Code.NotFound);
  }, empty],
  ["one of our own errors (masked)", () => {
    throw new TypeError("secret internals");
  }, empty],
  ["a backend outage", () => Promise.reject(outage), empty],
  ["a body that does not decode", () => ({}), new Uint8Array([0x0a, 0xff, 0xff])],
];

for (const [what, ping, body] of cases) {
  Deno.test(`fast unary path: ${what} is answered as connect-es answers it`, async () => {
    const { fast, connect } = await both(ping, body);
    equal(fast.status, connect.status);
    equal(fast.type, connect.type);
    deepStrictEqual(
      new TextDecoder().decode(fast.body),
      new TextDecoder().decode(connect.body),
    );
  });
}

Deno.test("fast unary path: a body over the method's limit is refused as connect-es refuses it", async () => {
  const { fast, connect } = await both(() => ({}), new Uint8Array(2048));
  equal(fast.status, connect.status);
  deepStrictEqual(fast.body, connect.body);
});

Deno.test("fast unary path: a plain binary call takes it; one with a deadline goes to connect-es", async () => {
  const seen: string[] = [];
  const ping = (_req: unknown, ctx: { requestHeader?: Headers }) => {
    seen.push(ctx.requestHeader ? "connect-es" : "fast");
    return {};
  };
  await both(ping as () => unknown, empty);
  deepStrictEqual(seen, ["fast", "connect-es"]);
});
