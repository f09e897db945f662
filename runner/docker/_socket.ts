/**
 * Where the Docker daemon listens, and a liveness check that loads nothing
 * (`nano-modal run` reads both before anything of the runner has loaded).
 */

/** The daemon's unix socket: `DOCKER_HOST` if it is a unix:// URL, else the standard path. */
export function dockerSocketPath(): string {
  const host = Deno.env.get("DOCKER_HOST");
  if (host?.startsWith("unix://")) return host.slice("unix://".length);
  return "/var/run/docker.sock";
}

/** Whether a Docker daemon answers `GET /_ping` on `socketPath` within `timeoutMs`. */
export async function dockerReachable(socketPath: string, timeoutMs = 500): Promise<boolean> {
  let conn: Deno.UnixConn | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) =>
    timer = setTimeout(() => resolve(false), timeoutMs)
  );
  const ping = (async () => {
    conn = await Deno.connect({ transport: "unix", path: socketPath });
    await conn.write(new TextEncoder().encode("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return n !== null && /^HTTP\/1\.[01] 200/.test(new TextDecoder().decode(buf.subarray(0, n)));
  })().catch(() => false);
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
  }
}
