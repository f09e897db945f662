// The web endpoint checks, run against each way a request can travel (web_endpoint_test.ts).
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { connect } from "node:http2";

/** The server token of every setup. */
export const TOKEN = "web-test-token-0123456789abcdef";
const MIB = 1024 * 1024;

/** What {@linkcode webSteps} needs besides the app's base URL. */
export interface WebStepOptions {
  /** Stops the app. */
  stop: () => Promise<void>;
  /**
   * Checks that a paused reader holds the handler back. Only where the client's own socket
   * buffer (up to 32 MiB here) is the only big one on the way: a queued request has more.
   */
  slowReader?: boolean;
}

/** Runs every step against the app served at `base` (`.../web/webapp`). */
export async function webSteps(
  t: Deno.TestContext,
  base: string,
  options: WebStepOptions,
): Promise<void> {
  const { stop } = options;
  await t.step("GET sees the path below the prefix and the query", async () => {
    const res = await fetch(`${base}/echo/a/b?x=1&y=two`, { headers: { "x-custom": "yes" } });
    strictEqual(res.status, 201);
    strictEqual(res.headers.get("x-answer"), "42");
    deepStrictEqual(await res.json(), {
      method: "GET",
      path: "/a/b",
      query: "?x=1&y=two",
      prefix: "/web/webapp/echo",
      custom: "yes",
    });
  });

  await t.step("the same endpoint answers over HTTP/2 (cleartext)", async () => {
    const url = new URL(base);
    const session = connect(url.origin);
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((ok, fail) => {
        const req = session.request({ ":path": `${url.pathname}/echo/h2?v=2` });
        let status = 0;
        let body = "";
        req.on("response", (h) => status = Number(h[":status"]));
        req.setEncoding("utf8");
        req.on("data", (d: string) => body += d);
        req.on("end", () => ok({ status, body }));
        req.on("error", fail);
        req.end();
      });
      strictEqual(status, 201);
      strictEqual(JSON.parse(body).path, "/h2");
    } finally {
      session.close();
    }
  });

  await t.step("POST JSON", async () => {
    const res = await fetch(`${base}/json`, {
      method: "POST",
      body: JSON.stringify({ a: 2, b: 3 }),
      headers: { "content-type": "application/json" },
    });
    strictEqual(res.status, 200);
    deepStrictEqual(await res.json(), { got: { a: 2, b: 3 }, sum: 5 });
  });

  await t.step("a 10 MB binary body goes both ways", async () => {
    const data = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    const res = await fetch(`${base}/bytes`, { method: "PUT", body: data });
    strictEqual(res.status, 200);
    const got = new Uint8Array(await res.arrayBuffer());
    strictEqual(got.length, data.length);
    const expected = data.slice().reverse();
    strictEqual(got.every((b, i) => b === expected[i]), true);
  });

  await t.step(
    "a streamed response's first chunk arrives before the last is produced",
    async () => {
      const res = await fetch(`${base}/stream`);
      const reader = res.body!.getReader();
      const first = await reader.read();
      strictEqual(new TextDecoder().decode(first.value), "first\n");
      // Only now may the handler produce its last chunk.
      strictEqual(await (await fetch(`${base}/stream/release`)).text(), "released");
      let rest = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        rest += new TextDecoder().decode(r.value);
      }
      strictEqual(rest, "last\n");
    },
  );

  await t.step("a handler that throws gives a 500 with a short body", async () => {
    const res = await fetch(`${base}/boom`);
    strictEqual(res.status, 500);
    const body = await res.text();
    strictEqual(body.includes("secret internal detail"), false);
    strictEqual(body.trim(), "Internal Server Error");
  });

  await t.step("a handler past its timeout gives a 504", async () => {
    const res = await fetch(`${base}/slow`);
    strictEqual(res.status, 504);
    await res.body?.cancel();
  });

  await t.step("a client that leaves before the head stops its handler", async () => {
    strictEqual(await (await fetch(`${base}/leave/last`)).text(), "none"); // its container is up
    const client = new AbortController();
    const left = fetch(`${base}/leave/wait`, { signal: client.signal }).catch(() => "left");
    await new Promise((r) => setTimeout(r, 1_000));
    client.abort();
    strictEqual(await left, "left");
    // One request at a time: /last is served once /wait's handler saw the signal and returned.
    const started = Date.now();
    strictEqual(await (await fetch(`${base}/leave/last`)).text(), "aborted");
    ok(Date.now() - started < 15_000, `the handler ran ${Date.now() - started} ms past its client`);
  });

  await t.step("requireToken demands the server token", async () => {
    const denied = await fetch(`${base}/secret`);
    strictEqual(denied.status, 401);
    await denied.body?.cancel();
    const ok = await fetch(`${base}/secret`, { headers: { authorization: `Bearer ${TOKEN}` } });
    strictEqual(ok.status, 200);
    strictEqual(await ok.text(), "for token holders");
  });

  await t.step("a Hono app's fetch works unchanged", async () => {
    const res = await fetch(`${base}/api/hello/ada`);
    strictEqual(await res.text(), "hello ada");
    const made = await fetch(`${base}/api/items`, { method: "POST", body: '{"n":1}' });
    strictEqual(made.status, 201);
    deepStrictEqual(await made.json(), { created: { n: 1 } });
  });

  await t.step("an unknown endpoint is a 404", async () => {
    const res = await fetch(`${base}/nope`);
    strictEqual(res.status, 404);
    match(await res.text(), /No web endpoint/);
  });

  // Only where the client's socket buffer is the one big buffer on the way (see slowReader).
  if (options.slowReader) {
    await t.step({
      name: "a slow reader holds the response's producer back (flow control)",
      fn: async () => {
        const res = await fetch(`${base}/flow/produce`);
        const reader = res.body!.getReader();
        const firstBytes = (await reader.read()).value!.length;
        await new Promise((r) => setTimeout(r, 3_000));
        // Chunks are stamped when made (64 KiB apart): count those made while the reader waited.
        const resumedMs = Date.now();
        const all = new Uint8Array(
          await new Response(
            new ReadableStream({
              pull: async (c) => {
                const r = await reader.read();
                if (r.done) c.close();
                else c.enqueue(r.value);
              },
            }),
          ).arrayBuffer(),
        );
        let early = 0;
        // The stamps sit every 64 KiB from the body's start, which was read before the pause.
        for (let at = (64 * 1024 - firstBytes % (64 * 1024)) % (64 * 1024); at < all.length;) {
          if (new DataView(all.buffer, at, 8).getFloat64(0) < resumedMs) early += 64 * 1024;
          at += 64 * 1024;
        }
        strictEqual(firstBytes + all.length, 96 * MIB);
        // The client's socket takes up to 32 MiB and the hops' buffers a few more; without flow
        // control the handler would make all 96 MiB while the reader waits.
        ok(early < 56 * MIB, `the handler made ${early} bytes ahead of a reader that paused`);
      },
    });
  }

  await t.step("a handler that does not read holds the client's upload back", async () => {
    let pulled = 0;
    const upload = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 64 * MIB) return controller.close();
        pulled += MIB;
        controller.enqueue(new Uint8Array(MIB));
      },
    }, { highWaterMark: 0 });
    const answer = fetch(`${base}/flow/hold`, { method: "POST", body: upload });
    await new Promise((r) => setTimeout(r, 1_000));
    ok(pulled < 32 * MIB, `the client sent ${pulled} bytes to a handler that reads nothing yet`);
    deepStrictEqual(await (await answer).json(), { received: 64 * MIB });
  });

  await t.step("after the app stops, its endpoints are 404", async () => {
    await stop();
    const deadline = Date.now() + 5_000;
    let status = 0;
    while (Date.now() < deadline) {
      const res = await fetch(`${base}/echo`);
      await res.body?.cancel();
      status = res.status;
      if (status === 404) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    strictEqual(status, 404);
  });
}
