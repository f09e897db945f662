import { deepStrictEqual } from "node:assert/strict";
import { FrameWriter, readFrames } from "./_framing.ts";

/** Reads back the message ids in what was written. */
async function idsIn(written: Uint8Array[]): Promise<string[]> {
  const all = new Uint8Array(written.reduce((n, w) => n + w.length, 0));
  let at = 0;
  for (const w of written) all.set(w, (at += w.length) - w.length);
  let pos = 0;
  const reader = {
    read(p: Uint8Array): Promise<number | null> {
      if (pos >= all.length) return Promise.resolve(null);
      const n = Math.min(p.length, all.length - pos);
      p.set(all.subarray(pos, pos + n));
      pos += n;
      return Promise.resolve(n);
    },
  };
  const ids: string[] = [];
  for await (const batch of readFrames(reader)) {
    for (const m of batch) ids.push((m as { id: string }).id);
  }
  return ids;
}

Deno.test("FrameWriter writes a message sent at any moment around the end of a drain", async () => {
  // The window that matters is a few microtasks wide: try a message at each of them.
  for (let hops = 0; hops < 12; hops++) {
    const written: Uint8Array[] = [];
    const writer = new FrameWriter({
      write: (d: Uint8Array) => (written.push(d.slice()), Promise.resolve(d.length)),
      close: () => {},
    });
    writer.send({ t: "volume-done", id: "a" });
    for (let i = 0; i < hops; i++) await Promise.resolve();
    writer.send({ t: "volume-done", id: "b" });
    await new Promise((r) => setTimeout(r, 5));
    // Before the fix, a message sent as a drain ended waited for a later one to carry it
    // (a sandbox waiting on a nested call's last reply hung).
    deepStrictEqual(await idsIn(written), ["a", "b"], `sent ${hops} microtasks after the first`);
  }
});
