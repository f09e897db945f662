/**
 * Byte copying between two connections, for the relays on both sides of the
 * wire: the control plane's gate (public port → its HTTP server) and a
 * client's no-delay relay (`fetch` → the control plane's port).
 * @module
 */

/**
 * Copies `from` to `to` until `from` ends, then half-closes `to`; `seen` sees
 * every chunk before it is written. Rejects when a read or write fails.
 */
export async function pump(
  from: Deno.Conn,
  to: Deno.Conn,
  seen?: (chunk: Uint8Array) => void,
): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await from.read(buf);
    if (n === null) break;
    const chunk = buf.subarray(0, n);
    seen?.(chunk);
    for (let off = 0; off < n;) off += await to.write(chunk.subarray(off));
  }
  await to.closeWrite().catch(() => {});
}
