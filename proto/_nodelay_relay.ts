/**
 * A relay in the client's own process that gives Deno's `fetch` a TCP
 * connection with Nagle's algorithm off.
 *
 * Deno's HTTP client sets `TCP_NODELAY` to 0 on its sockets, and its HTTP/2
 * codec writes a frame's head and its payload in two writes. The second write
 * then waits for the peer to acknowledge the first, and a peer that has
 * nothing to send yet (it waits for the rest of the frame) delays that
 * acknowledgement by up to 40 ms: a worker's results and credit took 40 ms to
 * reach the control plane, so a stream carried one exchange every 40 ms.
 *
 * `fetch` reaches this relay over a Unix socket (`proxy: { transport: "unix" }`,
 * no Nagle there) in a directory only this user can read; the relay opens the
 * TCP connection with `setNoDelay(true)` and copies bytes both ways. Only for
 * cleartext (h2c) servers: through such a proxy `fetch` does no TLS itself.
 * @module
 */
import { pump } from "./conn_pump.ts";

/** A running relay: the socket path to give `fetch`, and how to stop it. */
export interface NoDelayRelay {
  /** The Unix socket `fetch` connects to. */
  path: string;
  /** Stops accepting, drops open connections, removes the socket. */
  close(): void;
}

/** Starts a relay to `hostname:port` (synchronously, so a transport can be made at once). */
export function startNoDelayRelay(target: { hostname: string; port: number }): NoDelayRelay {
  const dir = Deno.makeTempDirSync({ prefix: "nano-modal-relay-" });
  const path = `${dir}/s`;
  const listener = Deno.listen({ transport: "unix", path });
  listener.unref();
  const open = new Set<Deno.Conn>();
  let closed = false;
  const serve = async (local: Deno.Conn) => {
    // Idle connections keep no process alive: a pending fetch does that itself.
    local.unref();
    open.add(local);
    let remote: Deno.TcpConn | undefined;
    try {
      remote = await Deno.connect({ hostname: target.hostname, port: target.port });
      remote.setNoDelay(true);
      remote.unref();
      open.add(remote);
      // A reset on either side ends this connection.
      await Promise.all([pump(local, remote), pump(remote, local)]);
    } catch {
      // Unreachable: closing the local side makes fetch report the failure.
    } finally {
      for (const c of [local, remote]) {
        if (!c) continue;
        open.delete(c);
        try {
          c.close();
        } catch { /* already closed */ }
      }
    }
  };
  (async () => {
    try {
      for await (const conn of listener) serve(conn);
    } catch {
      // The listener was closed.
    }
  })();
  return {
    path,
    close() {
      if (closed) return;
      closed = true;
      try {
        listener.close();
      } catch { /* closed */ }
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      Deno.removeSync(dir, { recursive: true });
    },
  };
}
