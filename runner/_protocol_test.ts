import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import {
  FrameWriter,
  type ProtocolMessage,
  readFrames,
  SYNC_MARKER,
  syncMarker,
} from "./_protocol.ts";

Deno.test("messages sent in one tick travel as one frame and arrive intact", async () => {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = new FrameWriter(writable);
  const args = new Uint8Array([1, 2, 3]);
  writer.send({ t: "run", id: "a", fn: "f", args });
  writer.send({ t: "run", id: "b", fn: "f", args });
  const frames: ProtocolMessage[][] = [];
  const reading = (async () => {
    for await (const batch of readFrames(readable)) frames.push(batch);
  })();
  await writer.close();
  await reading;
  strictEqual(frames.length, 1);
  deepStrictEqual(frames[0].map((m) => (m as { id: string }).id), ["a", "b"]);
  deepStrictEqual((frames[0][0] as { args: Uint8Array }).args, args);
});

Deno.test("frames split across chunks are reassembled", async () => {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const inner = new TransformStream<Uint8Array, Uint8Array>();
  const writer = new FrameWriter(inner.writable);
  writer.send({ t: "ready", functions: ["x".repeat(1000)] });
  const pump = (async () => {
    const w = writable.getWriter();
    for await (const chunk of inner.readable) {
      for (let i = 0; i < chunk.length; i += 7) await w.write(chunk.slice(i, i + 7));
    }
    await w.close();
  })();
  const got: ProtocolMessage[][] = [];
  const reading = (async () => {
    for await (const batch of readFrames(readable)) got.push(batch);
  })();
  await writer.close();
  await pump;
  await reading;
  strictEqual((got[0][0] as { functions: string[] }).functions[0].length, 1000);
});

Deno.test("a corrupt length prefix is refused instead of allocating it", async () => {
  const stream = ReadableStream.from([new Uint8Array([0xff, 0xff, 0xff, 0xff, 0])]);
  await rejects(async () => {
    for await (const _ of readFrames(stream)) { /* consume */ }
  }, RangeError);
});

Deno.test("sync markers are found in output text", () => {
  const text = `hello\n${syncMarker(7)}`;
  deepStrictEqual([...text.matchAll(SYNC_MARKER)].map((m) => m[1]), ["7"]);
});
