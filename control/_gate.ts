/**
 * The TCP front of the control plane. `Deno.serve` has no header or idle
 * timeouts and no connection limit: a client that connects and sends nothing,
 * or half a request line, holds its connection (and a file descriptor)
 * forever. The gate accepts connections itself, applies those limits, and
 * passes the bytes through to `Deno.serve` listening on a private unix socket.
 *
 * It reads only what it must to know a request has begun: the HTTP/1 header
 * terminator, or an HTTP/2 HEADERS frame with END_HEADERS.
 */
import { type Clock, systemClock, type TimerHandle } from "../proto/clock.ts";
import { pump } from "../proto/conn_pump.ts";

/** Options for {@linkcode startGate}. */
export interface GateOptions {
  hostname: string;
  port: number;
  /** The unix socket `Deno.serve` listens on. */
  upstreamPath: string;
  /** A connection must finish its first request's headers within this. @default 10_000 */
  headerTimeoutMs?: number;
  /** A connection silent both ways this long is closed. @default 300_000 */
  idleTimeoutMs?: number;
  /** Connections beyond this are closed at once. @default 4_096 */
  maxConnections?: number;
  clock?: Clock;
}

/** A running gate. */
export interface Gate {
  addr: Deno.NetAddr;
  /** Connections open now. */
  connections(): number;
  close(): Promise<void>;
}

const H2_PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** Headers bigger than this are not a request we serve. */
const MAX_HEAD_BYTES = 64 * 1024;

/** Watches the first bytes of a connection until a request's headers are complete. */
class HeadScanner {
  #prefix: number[] = [];
  #mode: "unknown" | "h1" | "h2" = "unknown";
  #seen = 0;
  #h1Tail = 0; // how much of "\r\n\r\n" the bytes so far end with
  #frame: number[] = []; // an HTTP/2 frame header being read
  #skip = 0; // payload bytes of the current HTTP/2 frame still to pass
  done = false;
  /** Set when the peer sent more than a header block without completing one. */
  tooBig = false;

  feed(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length && !this.done && !this.tooBig; i++) {
      const b = chunk[i];
      if (++this.#seen > MAX_HEAD_BYTES) this.tooBig = true;
      if (this.#mode === "unknown") {
        this.#prefix.push(b);
        const at = this.#prefix.length - 1;
        if (b !== H2_PREFACE[at]) {
          this.#mode = "h1";
          for (const p of this.#prefix) this.#h1(p);
        } else if (this.#prefix.length === H2_PREFACE.length) this.#mode = "h2";
      } else if (this.#mode === "h1") this.#h1(b);
      else this.#h2(chunk, i);
    }
  }

  #h1(b: number): void {
    const want = this.#h1Tail % 2 === 0 ? 13 : 10; // \r then \n, twice
    this.#h1Tail = b === want ? this.#h1Tail + 1 : b === 13 ? 1 : 0;
    if (this.#h1Tail === 4) this.done = true;
  }

  #h2(chunk: Uint8Array, i: number): void {
    if (this.#skip > 0) {
      this.#skip--;
      return;
    }
    this.#frame.push(chunk[i]);
    if (this.#frame.length < 9) return;
    const [l0, l1, l2, type, flags] = this.#frame;
    this.#frame = [];
    // HEADERS (1) or CONTINUATION (9) with END_HEADERS (0x4): a request has begun.
    if ((type === 1 || type === 9) && flags & 0x4) this.done = true;
    this.#skip = (l0 << 16) | (l1 << 8) | l2;
  }
}

interface Tracked {
  conn: Deno.TcpConn;
  upstream?: Deno.Conn;
  openedMs: number;
  /** When the sweep last saw bytes move (it compares `moved` with `seen`). */
  lastMs: number;
  /** Chunks relayed either way: counted, not timed, as reading the clock per chunk costs. */
  moved: number;
  seen: number;
  head: HeadScanner;
  closed: boolean;
}

function closeQuietly(c: Deno.Conn | undefined): void {
  try {
    c?.close();
  } catch { /* already closed */ }
}

/** Starts a gate that forwards accepted connections to `upstreamPath`. */
export function startGate(options: GateOptions): Gate {
  const clock = options.clock ?? systemClock;
  const headerTimeoutMs = options.headerTimeoutMs ?? 10_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  const maxConnections = options.maxConnections ?? 4_096;
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const open = new Set<Tracked>();

  const drop = (t: Tracked) => {
    if (t.closed) return;
    t.closed = true;
    open.delete(t);
    closeQuietly(t.conn);
    closeQuietly(t.upstream);
  };

  const serve = async (t: Tracked) => {
    try {
      t.upstream = await Deno.connect({ transport: "unix", path: options.upstreamPath });
      if (t.closed) return closeQuietly(t.upstream);
      const up = t.upstream;
      // The sweep compares counts of chunks moved instead of reading the clock per chunk.
      const inbound = pump(t.conn, up, (chunk) => {
        t.moved++;
        if (t.head.done || t.head.tooBig) return;
        t.head.feed(chunk);
        if (t.head.tooBig) drop(t);
      });
      const outbound = pump(up, t.conn, () => t.moved++);
      await Promise.all([inbound, outbound]);
    } catch {
      // A reset or a drop: either way this connection is over.
    } finally {
      drop(t);
    }
  };

  let closing = false;
  const accepting = (async () => {
    while (!closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        if (closing) return;
        // Out of file descriptors, say: wait for some to close rather than stop accepting.
        await clock.sleep(100);
        continue;
      }
      if (open.size >= maxConnections) {
        closeQuietly(conn);
        continue;
      }
      conn.setNoDelay(true);
      const now = clock.now();
      const t: Tracked = {
        conn,
        openedMs: now,
        lastMs: now,
        moved: 0,
        seen: 0,
        head: new HeadScanner(),
        closed: false,
      };
      open.add(t);
      serve(t);
    }
  })();

  // One sweep for all connections: cheaper than a timer per connection.
  const sweepEveryMs = Math.max(50, Math.min(1_000, headerTimeoutMs / 4, idleTimeoutMs / 4));
  let timer: TimerHandle;
  const sweep = () => {
    const now = clock.now();
    for (const t of open) {
      if (t.moved !== t.seen) {
        t.seen = t.moved;
        t.lastMs = now;
      }
      if (!t.head.done && now - t.openedMs > headerTimeoutMs) drop(t);
      else if (now - t.lastMs > idleTimeoutMs) drop(t);
    }
    timer = clock.setTimeout(sweep, sweepEveryMs);
  };
  timer = clock.setTimeout(sweep, sweepEveryMs);

  return {
    addr: listener.addr,
    connections: () => open.size,
    async close() {
      closing = true;
      clock.clearTimeout(timer);
      try {
        listener.close();
      } catch { /* closed */ }
      await accepting;
      for (const t of [...open]) drop(t);
    },
  };
}
