/**
 * Unary Connect calls to a control plane on this machine, over HTTP/1.1 on its
 * Unix socket (`local_socket.ts`), written by hand.
 *
 * Why: a warm `.remote()` is one unary call, and Deno's HTTP/2 `fetch` spends
 * ~80 µs more per call than a plain keep-alive HTTP/1.1 exchange over the same
 * socket (measured across two processes: 140 vs 56 µs). The server is the same
 * `Deno.serve`, which speaks both. Requests and responses are the same Connect
 * bytes and headers as over `fetch` (`_unary_fetch.ts` builds and reads them
 * for both), so callers see the same answers and `ConnectError`s.
 *
 * Connections are kept open between calls, one call at a time each; a call
 * takes an idle one or opens another. A kept connection the server closed
 * while it was idle is retried once on a new one, and only when nothing of
 * the answer had arrived (the server never read the request).
 * @module
 */
import { Code, ConnectError, type Transport } from "./deps.ts";
import {
  checkReadMax,
  unaryAnswer,
  unaryFailure,
  unaryRequest,
  unarySignal,
} from "./_unary_fetch.ts";
import { joinBytes } from "./join_bytes.ts";

/** Where and how {@linkcode unaryOverUnixH1} calls. */
export interface UnaryH1Options {
  /** The server's Unix socket. */
  socketPath: string;
  /** The `Authorization` header, when there is a token. */
  authorization?: string;
  /** Largest response body accepted. */
  readMaxBytes: number;
  /**
   * Connections busy at once, at most; a call beyond them goes to
   * `overflow` (HTTP/2, which multiplexes), so thousands of calls at once
   * never hold thousands of sockets. @default 64
   */
  maxConnections?: number;
  /** Where calls go while `maxConnections` are busy. */
  overflow: Transport["unary"];
}

/** A transport's `unary`, and the means to close its kept connections. */
export interface UnaryH1 {
  /** Calls one unary method. */
  unary: Transport["unary"];
  /** Closes idle connections now and busy ones once their call ends. */
  close(): void;
}

/** Idle connections kept for later calls; more are closed once their call ends. */
const MAX_IDLE = 16;
/** Largest status line plus headers accepted. */
const MAX_HEAD_BYTES = 64 * 1024;

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** The server closed a kept connection before anything of the answer came back. */
class StaleConnection extends Error {}

/** One connection and what has been read from it but not yet used. */
class H1Conn {
  #buf = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;
  /** Whether it may carry another call. */
  reusable = true;
  /** Whether any byte of the current answer has arrived. */
  answered = false;

  constructor(readonly conn: Deno.Conn) {}

  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) at += await this.conn.write(bytes.subarray(at));
  }

  /** Reads more; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      } else {
        const bigger = new Uint8Array(this.#buf.length * 2);
        bigger.set(this.#buf);
        this.#buf = bigger;
      }
    }
    const n = await this.conn.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    this.answered = true;
    return true;
  }

  async #more(): Promise<void> {
    if (await this.#fill()) return;
    this.reusable = false;
    if (!this.answered) throw new StaleConnection();
    throw new ConnectError("the server closed the connection mid-answer", Code.Unavailable);
  }

  /** One CRLF-terminated line, without its end. */
  async line(): Promise<string> {
    let searched = 0; // bytes past #start known to hold no line end (#fill may move #start)
    for (;;) {
      const from = this.#start + searched;
      const i = this.#buf.subarray(from, this.#end).indexOf(10);
      if (i >= 0) {
        const lf = from + i;
        const text = latin1.decode(
          this.#buf.subarray(
            this.#start,
            lf > this.#start && this.#buf[lf - 1] === 13 ? lf - 1 : lf,
          ),
        );
        this.#start = lf + 1;
        return text;
      }
      if (this.#end - this.#start > MAX_HEAD_BYTES) throw protocolError("a header line too long");
      searched = this.#end - this.#start;
      await this.#more();
    }
  }

  /** Exactly `n` bytes, in a buffer of their own. */
  async exact(n: number): Promise<Uint8Array<ArrayBuffer>> {
    const out = new Uint8Array(n);
    let got = Math.min(n, this.#end - this.#start);
    out.set(this.#buf.subarray(this.#start, this.#start + got));
    this.#start += got;
    while (got < n) {
      const read = await this.conn.read(out.subarray(got));
      if (read === null) {
        this.reusable = false;
        throw new ConnectError("the server closed the connection mid-answer", Code.Unavailable);
      }
      got += read;
    }
    return out;
  }

  /** Everything up to the end of the stream. */
  async rest(readMaxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
    this.reusable = false;
    while (await this.#fill()) checkReadMax(this.#end - this.#start, readMaxBytes);
    const out = this.#buf.slice(this.#start, this.#end);
    this.#start = this.#end;
    return out;
  }

  /** Whether bytes beyond the answer arrived (the connection is then out of step). */
  get leftover(): boolean {
    return this.#start !== this.#end;
  }
}

function protocolError(what: string): ConnectError {
  return new ConnectError(`the server's HTTP/1.1 answer is malformed: ${what}`, Code.Internal);
}

/** One HTTP/1.1 answer: its status, headers and body. */
async function readAnswer(
  c: H1Conn,
  readMaxBytes: number,
): Promise<{ status: number; headers: Headers; body: Uint8Array<ArrayBuffer> }> {
  let status: number;
  let http10: boolean;
  for (;;) {
    const statusLine = await c.line();
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine);
    if (!m) throw protocolError(`status line "${statusLine.slice(0, 40)}"`);
    http10 = m[1] === "0";
    status = Number(m[2]);
    if (status >= 200 || status === 101) break;
    // An interim answer (100 Continue, 103 Early Hints): its headers, then the real one.
    while ((await c.line()) !== "");
  }
  const headers = new Headers();
  let headBytes = 0;
  for (;;) {
    const line = await c.line();
    if (line === "") break;
    headBytes += line.length;
    if (headBytes > MAX_HEAD_BYTES) throw protocolError("headers too large");
    const colon = line.indexOf(":");
    if (colon <= 0) throw protocolError(`header line "${line.slice(0, 40)}"`);
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const connection = headers.get("connection")?.toLowerCase();
  if (connection === "close" || (http10 && connection !== "keep-alive")) c.reusable = false;
  let body: Uint8Array<ArrayBuffer>;
  if (status === 204 || status === 304) {
    body = new Uint8Array(0);
  } else if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
    body = await readChunked(c, readMaxBytes);
  } else if (headers.has("content-length")) {
    const length = Number(headers.get("content-length"));
    if (!Number.isSafeInteger(length) || length < 0) throw protocolError("content-length");
    if (length > readMaxBytes) c.reusable = false; // its body is left unread
    checkReadMax(length, readMaxBytes);
    body = await c.exact(length);
  } else {
    body = await c.rest(readMaxBytes);
  }
  return { status, headers, body };
}

async function readChunked(c: H1Conn, readMaxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const sizeLine = await c.line();
    const n = parseInt(sizeLine, 16);
    if (!Number.isSafeInteger(n) || n < 0) throw protocolError("chunk size");
    if (n === 0) break;
    size += n;
    if (size > readMaxBytes) c.reusable = false;
    checkReadMax(size, readMaxBytes);
    parts.push(await c.exact(n));
    if ((await c.line()) !== "") throw protocolError("chunk end");
  }
  while ((await c.line()) !== ""); // trailers: Connect sends none over HTTP/1.1 unary
  return parts.length === 1 ? parts[0] as Uint8Array<ArrayBuffer> : joinBytes(parts, size);
}

/** The request's bytes: head and body in one write. */
function requestBytes(path: string, headers: Headers, body: Uint8Array): Uint8Array {
  let head = `POST ${path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: ${body.length}\r\n`;
  headers.forEach((value, name) => {
    head += `${name}: ${value}\r\n`;
  });
  head += "\r\n";
  const out = new Uint8Array(head.length + body.length);
  encoder.encodeInto(head, out);
  out.set(body, head.length);
  return out;
}

/**
 * A transport's `unary` over HTTP/1.1 on the Unix socket at
 * `options.socketPath`.
 */
export function unaryOverUnixH1(options: UnaryH1Options): UnaryH1 {
  const { socketPath, authorization, readMaxBytes, overflow } = options;
  const maxConnections = options.maxConnections ?? 64;
  const idle: H1Conn[] = [];
  let busy = 0;
  let closed = false;

  async function open(): Promise<H1Conn> {
    try {
      return new H1Conn(await Deno.connect({ transport: "unix", path: socketPath }));
    } catch (err) {
      throw new ConnectError(
        `cannot connect to the server's socket ${socketPath}: ${(err as Error).message}`,
        Code.Unavailable,
      );
    }
  }

  function release(c: H1Conn): void {
    busy--;
    if (!closed && c.reusable && !c.leftover && idle.length < MAX_IDLE) {
      c.answered = false;
      idle.push(c);
    } else {
      try {
        c.conn.close();
      } catch { /* closed already */ }
    }
  }

  /** One exchange on `c`; the connection is closed if the call is aborted meanwhile. */
  async function exchange(c: H1Conn, request: Uint8Array, signal: AbortSignal | undefined) {
    const onAbort = () => {
      c.reusable = false;
      try {
        c.conn.close();
      } catch { /* closed already */ }
    };
    signal?.addEventListener("abort", onAbort);
    try {
      if (signal?.aborted) throw signal.reason;
      try {
        await c.write(request);
      } catch (err) {
        c.reusable = false;
        // The server closed a kept connection: nothing was read, so nothing ran.
        if (err instanceof Deno.errors.BrokenPipe || err instanceof Deno.errors.ConnectionReset) {
          throw new StaleConnection();
        }
        throw err;
      }
      try {
        return await readAnswer(c, readMaxBytes);
      } catch (err) {
        if (!c.answered && err instanceof Deno.errors.ConnectionReset) throw new StaleConnection();
        throw err;
      }
    } catch (err) {
      c.reusable = false;
      throw err;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      release(c);
    }
  }

  /** A connection for one exchange, kept or (`fresh`) new; busy until released. */
  async function take(fresh = false): Promise<H1Conn> {
    busy++;
    try {
      return (!fresh && idle.pop()) || await open();
    } catch (err) {
      busy--;
      throw err;
    }
  }

  const unary = ((method, callerSignal, timeoutMs, header, input, ...rest) => {
    if (busy >= maxConnections && idle.length === 0) {
      return overflow(method, callerSignal, timeoutMs, header, input, ...rest);
    }
    return call(method, callerSignal, timeoutMs, header, input);
  }) as Transport["unary"];

  const call = (async (method, callerSignal, timeoutMs, header, input) => {
    const signal = unarySignal(callerSignal, timeoutMs);
    try {
      const { headers, body } = unaryRequest(method, timeoutMs, header, input, authorization);
      const request = requestBytes(`/${method.parent.typeName}/${method.name}`, headers, body);
      const reused = idle.length > 0;
      let answer;
      try {
        answer = await exchange(await take(), request, signal);
      } catch (err) {
        // Only a kept connection may have gone stale; a new one that fails so is an error.
        if (!(err instanceof StaleConnection) || !reused) throw err;
        answer = await exchange(await take(true), request, signal);
      }
      return unaryAnswer(method, answer.status, answer.headers, answer.body);
    } catch (err) {
      if (err instanceof StaleConnection) {
        throw unaryFailure(
          new ConnectError("the server closed the connection unanswered", Code.Unavailable),
          signal,
        );
      }
      throw unaryFailure(err, signal);
    }
  }) as Transport["unary"];

  return {
    unary,
    close() {
      closed = true;
      for (const c of idle.splice(0)) {
        try {
          c.conn.close();
        } catch { /* closed already */ }
      }
    },
  };
}
