import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import {
  type ByteReader,
  type ByteWriter,
  chunkByBytes,
  FrameWriter,
  MAX_FRAME_BYTES,
  type ProtocolMessage,
  readFrames,
  SYNC_MARKER,
  syncMarker,
} from "./_protocol.ts";

/** One direction of a connection in memory; `chunkBytes` splits writes to test reassembly. */
class Pipe implements ByteReader, ByteWriter {
  #chunks: Uint8Array[] = [];
  #closed = false;
  #wake?: () => void;
  constructor(readonly chunkBytes = Infinity) {}

  write(p: Uint8Array): Promise<number> {
    for (let i = 0; i < p.length; i += Math.min(this.chunkBytes, p.length)) {
      this.#chunks.push(p.slice(i, i + this.chunkBytes));
    }
    this.#wake?.();
    return Promise.resolve(p.length);
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#closed) return null;
      await new Promise<void>((r) => this.#wake = r);
    }
    const chunk = this.#chunks[0];
    const n = Math.min(p.length, chunk.length);
    p.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#chunks[0] = chunk.subarray(n);
    else this.#chunks.shift();
    return n;
  }
}

async function collect(pipe: Pipe): Promise<ProtocolMessage[][]> {
  const frames: ProtocolMessage[][] = [];
  for await (const batch of readFrames(pipe)) frames.push(batch);
  return frames;
}

Deno.test("messages sent in one tick travel as one frame and arrive intact", async () => {
  const pipe = new Pipe();
  const writer = new FrameWriter(pipe);
  const args = new Uint8Array([1, 2, 3]);
  writer.send({ t: "run", id: "a", fn: "f", args });
  writer.send({ t: "run", id: "b", fn: "f", args });
  await writer.close();
  const frames = await collect(pipe);
  strictEqual(frames.length, 1);
  deepStrictEqual(frames[0].map((m) => (m as { id: string }).id), ["a", "b"]);
  deepStrictEqual((frames[0][0] as { args: Uint8Array }).args, args);
});

Deno.test("frames split across reads, and frames larger than the read buffer, are reassembled", async () => {
  const pipe = new Pipe(7);
  const writer = new FrameWriter(pipe);
  writer.send({ t: "ready", functions: ["x".repeat(1000)] });
  await writer.flush();
  writer.send({ t: "ready", functions: ["y".repeat(200_000)] });
  await writer.close();
  const frames = await collect(pipe);
  deepStrictEqual(frames.map((f) => (f[0] as { functions: string[] }).functions[0].length), [
    1000,
    200_000,
  ]);
});

Deno.test("byte payloads stay intact while later frames reuse the read buffer", async () => {
  const pipe = new Pipe(5);
  const writer = new FrameWriter(pipe);
  const seen: Uint8Array[] = [];
  const reading = (async () => {
    for await (const batch of readFrames(pipe)) {
      for (const m of batch) seen.push((m as { args: Uint8Array }).args);
    }
  })();
  for (let i = 0; i < 50; i++) {
    writer.send({ t: "run", id: `${i}`, fn: "f", args: new Uint8Array([i, i, i]) });
    await writer.flush();
  }
  await writer.close();
  await reading;
  deepStrictEqual(seen.map((a) => [...a]), Array.from({ length: 50 }, (_, i) => [i, i, i]));
});

Deno.test("a corrupt length prefix is refused instead of allocating it", async () => {
  const pipe = new Pipe();
  await pipe.write(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0]));
  pipe.close();
  await rejects(() => collect(pipe), RangeError);
});

Deno.test("a burst of large results goes out in several frames, each under the frame limit", async () => {
  const pipe = new Pipe();
  const writer = new FrameWriter(pipe);
  const payload = new Uint8Array(20 * 1024 * 1024);
  for (let i = 0; i < 4; i++) writer.send({ t: "done", id: `${i}`, ok: true, payload, ms: 1 });
  await writer.close();
  const frames = await collect(pipe);
  ok(frames.length >= 2, `${frames.length} frames`);
  deepStrictEqual(frames.flat().map((m) => (m as { id: string }).id), ["0", "1", "2", "3"]);
});

Deno.test("chunkByBytes() keeps order, stays under the limit, and sends an oversized item alone", () => {
  const groups = chunkByBytes([3, 3, 3, 10, 1], (n) => n, 6);
  deepStrictEqual(groups, [[3, 3], [3], [10], [1]]);
  ok(MAX_FRAME_BYTES > 64 * 1024 * 1024, "a frame holds one wire message's worth of arguments");
});

Deno.test("sync markers are found in output text", () => {
  const text = `hello\n${syncMarker(7)}`;
  deepStrictEqual([...text.matchAll(SYNC_MARKER)].map((m) => m[1]), ["7"]);
});
