import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { Code, ConnectError, create, createClient, toBinary, type Transport } from "./deps.ts";
import { GetBundleResponseSchema, PingResponseSchema, WorkerService } from "./messages.ts";
import { ControlService } from "./messages.ts";
import { unaryOverUnixH1 } from "./_unary_h1.ts";
import { checkUnaryCases, type Seen, unaryCasesHandler } from "./_unary_cases.ts";

const socketIn = (dir: string) => `${dir}/s.sock`;

function clientOf<S extends typeof WorkerService | typeof ControlService>(
  service: S,
  path: string,
  opts: {
    authorization?: string;
    readMaxBytes?: number;
    maxConnections?: number;
    overflow?: Transport["unary"];
  } = {},
) {
  const h1 = unaryOverUnixH1({
    socketPath: path,
    readMaxBytes: 1 << 20,
    overflow: () => Promise.reject(new Error("no overflow in this test")),
    ...opts,
  });
  // deno-lint-ignore no-explicit-any
  const client = createClient(service, { unary: h1.unary, stream: null as any });
  return { client, close: h1.close };
}

const ping = (version: string) =>
  toBinary(PingResponseSchema, create(PingResponseSchema, { version }));

Deno.test("unary calls over HTTP/1.1 on a Unix socket: the Connect wire format both ways, and its errors", async () => {
  const dir = await Deno.makeTempDir();
  const path = socketIn(dir);
  const seen: Seen = [];
  const bundle = toBinary(
    GetBundleResponseSchema,
    create(GetBundleResponseSchema, { data: new Uint8Array(100_000).fill(7) }),
  );
  const server = Deno.serve(
    { path, onListen() {} },
    // A body of unknown length: sent chunked.
    unaryCasesHandler(
      seen,
      () =>
        new Response(ReadableStream.from([bundle.slice(0, 10), bundle.slice(10)]), {
          headers: { "content-type": "application/proto" },
        }),
    ),
  );
  const { client, close } = clientOf(WorkerService, path, {
    authorization: "Bearer t0ken-t0ken-t0ken",
  });
  try {
    const res = await client.getBundle({ hash: "abc" });
    strictEqual(res.data.length, 100_000);
    strictEqual(res.data[99_999], 7);
    await checkUnaryCases(client, seen);
    // After an abort (its connection closed) calls go on, on another connection.
    strictEqual((await client.getBundle({ hash: "abc" })).data.length, 100_000);
  } finally {
    close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HTTP/1.1 unary calls keep their connection, and open more only for calls at once", async () => {
  const dir = await Deno.makeTempDir();
  const path = socketIn(dir);
  let accepted = 0;
  const listener = Deno.listen({ transport: "unix", path });
  // A server that counts connections, answering each request after 20 ms.
  (async () => {
    for await (const conn of listener) {
      accepted++;
      (async () => {
        const buf = new Uint8Array(4096);
        for (;;) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) break;
          await new Promise((r) => setTimeout(r, 20));
          const body = ping(`conn ${accepted}`);
          await conn.write(
            new Uint8Array([
              ...new TextEncoder().encode(
                `HTTP/1.1 200 OK\r\ncontent-type: application/proto\r\ncontent-length: ${body.length}\r\n\r\n`,
              ),
              ...body,
            ]),
          ).catch(() => {});
        }
        conn.close();
      })();
    }
  })();
  const { client, close } = clientOf(ControlService, path);
  try {
    for (let i = 0; i < 5; i++) await client.ping({});
    strictEqual(accepted, 1);
    await Promise.all([client.ping({}), client.ping({}), client.ping({})]);
    strictEqual(accepted, 3);
    for (let i = 0; i < 5; i++) await client.ping({});
    strictEqual(accepted, 3);
  } finally {
    close();
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HTTP/1.1 unary calls beyond maxConnections at once go to the overflow (HTTP/2), not to more sockets", async () => {
  const dir = await Deno.makeTempDir();
  const path = socketIn(dir);
  let connections = 0;
  const server = Deno.serve({
    path,
    onListen() {},
  }, async (req) => {
    await req.arrayBuffer();
    await new Promise((r) => setTimeout(r, 50));
    return new Response(ping("h1"), { headers: { "content-type": "application/proto" } });
  });
  // Count the connections the server accepted, as its clients' sockets.
  const counting = `${dir}/counting.sock`;
  const relay = Deno.listen({ transport: "unix", path: counting });
  (async () => {
    for await (const c of relay) {
      connections++;
      const upstream = await Deno.connect({ transport: "unix", path });
      c.readable.pipeTo(upstream.writable).catch(() => {});
      upstream.readable.pipeTo(c.writable).catch(() => {});
    }
  })();
  let overflowed = 0;
  const { client, close } = clientOf(ControlService, counting, {
    maxConnections: 3,
    overflow: (method) => {
      overflowed++;
      return Promise.resolve({
        stream: false,
        service: method.parent,
        method,
        header: new Headers(),
        trailer: new Headers(),
        message: create(PingResponseSchema, { version: "overflow" }),
      }) as never;
    },
  });
  try {
    const answers = await Promise.all(Array.from({ length: 10 }, () => client.ping({})));
    strictEqual(answers.filter((a) => a.version === "h1").length, 3);
    strictEqual(overflowed, 7);
    strictEqual(connections, 3);
    // Once they are free again, calls take the kept connections.
    strictEqual((await client.ping({})).version, "h1");
    strictEqual(connections, 3);
  } finally {
    close();
    relay.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

/** A raw server on `path` whose connections each run `onConn`. */
function rawServer(path: string, onConn: (conn: Deno.Conn, request: number) => Promise<void>) {
  const listener = Deno.listen({ transport: "unix", path });
  let requests = 0;
  (async () => {
    for await (const conn of listener) {
      (async () => {
        const buf = new Uint8Array(4096);
        for (;;) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) break;
          try {
            await onConn(conn, ++requests);
          } catch {
            break;
          }
        }
        try {
          conn.close();
        } catch { /* closed */ }
      })();
    }
  })();
  return { listener, requests: () => requests };
}

const okHead = (body: Uint8Array, extra = "") =>
  new TextEncoder().encode(
    `HTTP/1.1 200 OK\r\ncontent-type: application/proto\r\ncontent-length: ${body.length}\r\n${extra}\r\n`,
  );

Deno.test("a kept connection the server closed while idle is retried once on a new one; one closed mid-answer is not", async () => {
  const dir = await Deno.makeTempDir();
  const path = socketIn(dir);
  // Each connection answers one request, then the server closes it (as an idle timeout would).
  const server = rawServer(path, async (conn, n) => {
    if (n === 3) {
      // Half an answer, then gone: the request may have run, so it must not run again.
      await conn.write(okHead(ping("x")));
      throw new Error("close");
    }
    const body = ping(`answer ${n}`);
    await conn.write(new Uint8Array([...okHead(body), ...body]));
    await new Promise((r) => setTimeout(r, 5));
    throw new Error("close");
  });
  const { client, close } = clientOf(ControlService, path);
  try {
    strictEqual((await client.ping({})).version, "answer 1");
    await new Promise((r) => setTimeout(r, 50)); // the server has closed it by now
    strictEqual((await client.ping({})).version, "answer 2");
    await new Promise((r) => setTimeout(r, 50));
    await rejects(client.ping({}), (e) => {
      ok(e instanceof ConnectError);
      strictEqual(e.code, Code.Unavailable);
      ok(/mid-answer|unanswered/.test(e.rawMessage), e.rawMessage);
      return true;
    });
    // Request 3 reached the server once, on a new connection after the stale one: not again.
    strictEqual(server.requests(), 3);
  } finally {
    close();
    server.listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HTTP/1.1 unary calls: no server is an Unavailable error naming the socket; oversized answers are refused", async () => {
  const dir = await Deno.makeTempDir();
  const path = socketIn(dir);
  const { client, close } = clientOf(ControlService, path, { readMaxBytes: 64 });
  try {
    await rejects(client.ping({}), (e) => {
      ok(e instanceof ConnectError);
      strictEqual(e.code, Code.Unavailable);
      ok(e.rawMessage.includes(path), e.rawMessage);
      return true;
    });
    const server = rawServer(path, async (conn) => {
      const body = ping("y".repeat(100));
      await conn.write(new Uint8Array([...okHead(body), ...body]));
    });
    try {
      await rejects(
        client.ping({}),
        (e) => (e as ConnectError).code === Code.ResourceExhausted,
      );
      deepStrictEqual(server.requests(), 1);
    } finally {
      server.listener.close();
    }
  } finally {
    close();
    await Deno.remove(dir, { recursive: true });
  }
});
