import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { create } from "../proto/deps.ts";
import { ResultStatus, type WebFrames, WebFramesSchema } from "../proto/messages.ts";
import { WebPeer } from "./_web_peer.ts";
import { WebPeers } from "./_web_direct.ts";

type Init = Parameters<typeof create<typeof WebFramesSchema>>[1];
const frames = (init: Init) => create(WebFramesSchema, init);
const head = {
  functionId: "fu-1",
  callId: "fc-1",
  method: "GET",
  url: "http://x/a",
  headers: [],
  hasBody: false,
};

/** The next batch the peer sends its worker. */
async function sent(peer: WebPeer): Promise<WebFrames> {
  const it = peer.out[Symbol.asyncIterator]();
  return (await it.next()).value as WebFrames;
}

Deno.test("WebPeer sends a request and answers with a whole body that came in one batch", async () => {
  const peer = new WebPeer();
  const ends: unknown[] = [];
  const response = peer.request(head, null, { timeoutMs: 10_000, onEnd: (e) => ends.push(e) });
  const out = await sent(peer);
  strictEqual(out.frames[0].kind.case, "request");
  const id = out.frames[0].id;
  peer.take(frames({
    frames: [
      {
        id,
        kind: { case: "response", value: { status: 201, headers: [{ name: "x-a", value: "1" }] } },
      },
      { id, kind: { case: "chunk", value: new TextEncoder().encode("ok") } },
      { id, kind: { case: "bodyEnd", value: true } },
      { id, kind: { case: "end", value: { status: ResultStatus.SUCCESS, durationMs: 1 } } },
    ],
  }));
  const res = await response;
  strictEqual(res.status, 201);
  strictEqual(res.headers.get("x-a"), "1");
  strictEqual(await res.text(), "ok");
  strictEqual(ends.length, 1);
  strictEqual(peer.load, 0);
});

Deno.test("WebPeer streams a body and credits the worker as the client reads it", async () => {
  const peer = new WebPeer();
  const response = peer.request(head, null, { timeoutMs: 10_000, onEnd: () => {} });
  const id = (await sent(peer)).frames[0].id;
  peer.take(frames({ frames: [{ id, kind: { case: "response", value: { status: 200 } } }] }));
  const res = await response;
  peer.take(frames({ frames: [{ id, kind: { case: "chunk", value: new Uint8Array(7) } }] }));
  const reader = res.body!.getReader();
  strictEqual((await reader.read()).value?.length, 7);
  const credit = await sent(peer);
  deepStrictEqual(credit.frames.map((f) => [f.id, f.kind.case, f.kind.value]), [[id, "credit", 7]]);
  peer.take(frames({ frames: [{ id, kind: { case: "bodyEnd", value: true } }] }));
  strictEqual((await reader.read()).done, true);
});

Deno.test("WebPeer answers 502 when the stream breaks before the response's head", async () => {
  const peer = new WebPeer();
  const response = peer.request(head, null, { timeoutMs: 10_000, onEnd: () => {} });
  peer.close();
  const res = await response;
  strictEqual(res.status, 502);
  await res.body?.cancel();
});

Deno.test("WebPeer answers 504 past the deadline and tells the worker to stop", async () => {
  const peer = new WebPeer();
  const response = peer.request(head, null, { timeoutMs: 0, onEnd: () => {} });
  const id = (await sent(peer)).frames[0].id;
  peer.sweep(performance.now() + 1);
  strictEqual((await response).status, 504);
  const abort = await sent(peer);
  deepStrictEqual(abort.frames.map((f) => [f.id, f.kind.case]), [[id, "abort"]]);
});

Deno.test("WebPeer tells the worker to stop a request whose client left before its head", async () => {
  const peer = new WebPeer();
  const ends: unknown[] = [];
  const client = new AbortController();
  const response = peer.request(head, null, {
    timeoutMs: 10_000,
    onEnd: (e) => ends.push(e),
    signal: client.signal,
  });
  const id = (await sent(peer)).frames[0].id;
  client.abort();
  strictEqual((await response).status, 499);
  const abort = await sent(peer);
  deepStrictEqual(abort.frames.map((f) => [f.id, f.kind.case]), [[id, "abort"]]);
  // The request stays counted until its handler ends on the worker.
  strictEqual(peer.load, 1);
  const end = { status: ResultStatus.SUCCESS, durationMs: 5 };
  peer.take(frames({ frames: [{ id, kind: { case: "end", value: end } }] }));
  strictEqual(peer.load, 0);
  strictEqual(ends.length, 1);
});

Deno.test("WebPeers stops picking a worker that says it drains", async () => {
  const peers = new WebPeers();
  const input = new ReadableStream<WebFrames>({
    start(c) {
      c.enqueue(frames({ frames: [{ id: 0, kind: { case: "abort", value: true } }] }));
    },
  });
  const ctl = new AbortController();
  const stream = peers.serve(input as unknown as AsyncIterable<WebFrames>, ctl.signal);
  const it = stream[Symbol.asyncIterator]();
  const pending = it.next(); // starts serving
  strictEqual(peers.pick("fu-1") !== undefined, true);
  await new Promise((r) => setTimeout(r, 10));
  strictEqual(peers.pick("fu-2"), undefined);
  ctl.abort();
  await pending;
});
