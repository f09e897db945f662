/**
 * Splits a Docker attach stream (non-TTY: frames of an 8-byte header, whose
 * first byte is the stream — 1 stdout, 2 stderr — and last four the length)
 * into stdout and stderr text, forwarded in whole lines where possible.
 */

/** Reads `chunks` to the end, calling `onText(fd, text)` per stream. */
export async function demuxFrames(
  chunks: AsyncIterable<Uint8Array>,
  onText: (fd: 1 | 2, text: string) => void,
): Promise<void> {
  const lines = { 1: new LineBuffer(), 2: new LineBuffer() };
  let pending: Uint8Array = new Uint8Array(0);
  for await (const chunk of chunks) {
    pending = concat(pending, chunk);
    while (pending.length >= 8) {
      const size = new DataView(pending.buffer, pending.byteOffset).getUint32(4);
      if (pending.length < 8 + size) break;
      const fd = pending[0] === 2 ? 2 : 1;
      const text = lines[fd].push(pending.subarray(8, 8 + size));
      if (text) onText(fd, text);
      pending = pending.slice(8 + size);
    }
  }
  for (const fd of [1, 2] as const) {
    const rest = lines[fd].end();
    if (rest) onText(fd, rest);
  }
}

/** Decodes UTF-8 and holds back a trailing partial line (up to 8 KiB). */
class LineBuffer {
  #decoder = new TextDecoder();
  #partial = "";

  push(bytes: Uint8Array): string {
    const text = this.#partial + this.#decoder.decode(bytes, { stream: true });
    const cut = text.lastIndexOf("\n");
    if (cut < 0 && text.length < 8192) {
      this.#partial = text;
      return "";
    }
    const end = cut < 0 ? text.length : cut + 1;
    this.#partial = text.slice(end);
    return text.slice(0, end);
  }

  end(): string {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = "";
    return rest;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
