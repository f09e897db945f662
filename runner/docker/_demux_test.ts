import { deepStrictEqual } from "node:assert/strict";
import { demuxFrames } from "./_demux.ts";

function frame(fd: number, text: string): Uint8Array {
  const body = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + body.length);
  out[0] = fd;
  new DataView(out.buffer).setUint32(4, body.length);
  out.set(body, 8);
  return out;
}

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

Deno.test("demuxFrames() splits stdout from stderr and forwards whole lines across any chunking", async () => {
  const frames = [frame(1, "hel"), frame(2, "oops\n"), frame(1, "lo wörld\npart"), frame(1, "ial")];
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) all.set(f, (at += f.length) - f.length);
  for (const size of [1, 3, 7, all.length]) {
    const got: [number, string][] = [];
    await demuxFrames(chunks(all, size), (fd, text) => got.push([fd, text]));
    deepStrictEqual(
      got,
      [[2, "oops\n"], [1, "hello wörld\n"], [1, "partial"]],
      `chunks of ${size}`,
    );
  }
});
