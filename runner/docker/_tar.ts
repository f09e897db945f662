/**
 * A streaming tar writer for Docker build contexts: regular files and
 * directories only, with fixed owner and mtime so the same content always
 * gives the same context (and Docker's build cache hits). Long paths use a
 * PAX header. Files are read from disk while the stream is consumed, so a
 * context holding the Deno binary never sits in memory whole.
 */

/** One entry of a tar stream. */
export interface TarEntry {
  /** Path inside the archive, without a leading slash. */
  name: string;
  /** Permission bits. @default 0o644 for files, 0o755 for directories */
  mode?: number;
  /** A directory entry; otherwise a file with `data` or `file`. */
  dir?: boolean;
  /** File contents held in memory. */
  data?: Uint8Array;
  /** Host path of the file contents (streamed). */
  file?: string;
}

/** Adds a directory entry before the first entry under each parent. */
export function withParents(entries: TarEntry[]): TarEntry[] {
  const out: TarEntry[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const parts = entry.name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (!seen.has(dir)) out.push({ name: dir, dir: true });
      seen.add(dir);
    }
    if (entry.dir) seen.add(entry.name);
    out.push(entry);
  }
  return out;
}

const BLOCK = 512;
const encoder = new TextEncoder();

/** Builds a tar archive stream of `entries`, in order. */
export function tarStream(entries: Iterable<TarEntry>): ReadableStream<Uint8Array> {
  const iterator = entries[Symbol.iterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = iterator.next();
      if (next.done) {
        // Two zero blocks end the archive.
        controller.enqueue(new Uint8Array(BLOCK * 2));
        controller.close();
        return;
      }
      for await (const chunk of entryChunks(next.value)) controller.enqueue(chunk);
    },
  });
}

async function* entryChunks(entry: TarEntry): AsyncGenerator<Uint8Array> {
  const name = entry.dir ? `${entry.name.replace(/\/+$/, "")}/` : entry.name;
  const mode = entry.mode ?? (entry.dir ? 0o755 : 0o644);
  if (entry.dir) {
    yield* withLongName(name, header(name, mode, 0, "5"));
    return;
  }
  if (entry.data) {
    yield* withLongName(name, header(name, mode, entry.data.length, "0"));
    yield entry.data;
    yield padding(entry.data.length);
    return;
  }
  if (!entry.file) throw new TypeError(`tar entry ${name} has neither data nor file`);
  const handle = await Deno.open(entry.file);
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (err) {
    handle.close();
    throw err;
  }
  yield* withLongName(name, header(name, mode, size, "0"));
  let sent = 0;
  // The readable closes the file when it ends.
  for await (const chunk of handle.readable) {
    // The file may grow while we read it: the header already fixed its size.
    const part = chunk.subarray(0, Math.max(0, size - sent));
    sent += part.length;
    if (part.length) yield part;
  }
  if (sent < size) throw new Error(`${entry.file} shrank while it was being archived`);
  yield padding(size);
}

function* withLongName(name: string, plain: Uint8Array): Generator<Uint8Array> {
  if (encoder.encode(name).length > 100) {
    const record = paxRecord("path", name);
    yield header("././@PaxHeader", 0o644, record.length, "x");
    yield record;
    yield padding(record.length);
  }
  yield plain;
}

/** A PAX record `"<len> key=value\n"`, whose length counts its own digits. */
function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  const bodyLength = encoder.encode(body).length;
  let length = bodyLength + String(bodyLength).length;
  if (String(length).length !== String(bodyLength).length) length++;
  return encoder.encode(`${length}${body}`);
}

function header(name: string, mode: number, size: number, type: string): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (offset: number, length: number, text: string) =>
    block.set(encoder.encode(text).subarray(0, length), offset);
  const octal = (offset: number, length: number, value: number) =>
    put(offset, length, value.toString(8).padStart(length - 1, "0"));
  put(0, 100, name);
  octal(100, 8, mode);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  put(148, 8, "        ");
  put(156, 1, type);
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  const sum = block.reduce((a, b) => a + b, 0);
  put(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

function padding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}
