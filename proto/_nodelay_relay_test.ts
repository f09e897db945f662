import { equal, ok } from "node:assert/strict";
import { startNoDelayRelay } from "./_nodelay_relay.ts";

/**
 * A bidi HTTP/2 stream where the client sends two messages and the server
 * answers only once it has both: the pattern of a worker's results then credit.
 * Returns the median milliseconds per exchange.
 */
async function exchanges(client: Deno.HttpClient, port: number, count: number): Promise<number> {
  let sink!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (sink = c) });
  const push = (chunk: Uint8Array) => sink.enqueue(chunk);
  const res = await fetch(
    `http://127.0.0.1:${port}/`,
    {
      method: "POST",
      body,
      client,
      duplex: "half",
    } as RequestInit & { client: Deno.HttpClient; duplex: "half" },
  );
  const reader = res.body!.getReader();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    push(new Uint8Array(1500).fill(1));
    await new Promise((r) => setTimeout(r, 1));
    push(new Uint8Array(600).fill(2));
    const { value } = await reader.read();
    equal(value?.[0], 9);
    times.push(performance.now() - started);
  }
  sink.close();
  while (!(await reader.read()).done) { /* the server ends its reply when our body ends */ }
  times.sort((a, b) => a - b);
  return times[count >> 1];
}

/** Answers with one byte (9) each time it has received 2,100 more bytes. */
function pairServer(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    let got = 0;
    const reply = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        got += chunk.length;
        while (got >= 2100) {
          got -= 2100;
          controller.enqueue(new Uint8Array([9]));
        }
      },
    });
    return new Response(req.body!.pipeThrough(reply));
  });
}

/** A relay to a local port, and an HTTP/2 client that goes through it. */
function relayTo(port: number) {
  const relay = startNoDelayRelay({ hostname: "127.0.0.1", port });
  const client = Deno.createHttpClient({
    http1: false,
    http2: true,
    proxy: { transport: "unix", path: relay.path },
  });
  return { relay, client };
}

Deno.test("through the relay, a message that follows another without a reply goes out at once (no 40 ms Nagle wait)", async () => {
  const server = pairServer();
  const { relay, client } = relayTo(server.addr.port);
  try {
    const median = await exchanges(client, server.addr.port, 15);
    // Nagle's wait for a delayed acknowledgement is 40 ms on Linux; an exchange is ~2 ms.
    ok(median < 25, `median exchange ${median.toFixed(1)} ms`);
  } finally {
    client.close();
    relay.close();
    await server.shutdown();
  }
});

Deno.test("the relay copies both ways, and close removes its socket", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => new Response(`echo ${await req.text()}`),
  );
  const { relay, client } = relayTo(server.addr.port);
  try {
    const big = "x".repeat(300_000);
    const res = await fetch(
      `http://127.0.0.1:${server.addr.port}/`,
      {
        method: "POST",
        body: big,
        client,
      } as RequestInit & { client: Deno.HttpClient },
    );
    equal(await res.text(), `echo ${big}`);
  } finally {
    client.close();
    relay.close();
    await server.shutdown();
  }
  ok(!(await Deno.stat(relay.path).then(() => true, () => false)), "socket removed");
});
