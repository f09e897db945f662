/**
 * Starts and stops a throwaway `redis-server` for tests, on a free port and in
 * its own directory, never touching a Redis on the default port.
 * @module
 */

/** Options for {@linkcode startRedis}. */
export interface RedisServerOptions {
  /** Persist writes to an append-only file, to survive a restart. @default false */
  appendonly?: boolean;
  /** Data directory; the caller owns it. @default a fresh temp dir, removed on stop */
  dir?: string;
  /** Port to listen on. @default a free port */
  port?: number;
}

/** A running `redis-server`. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Its data directory. */
  dir: string;
  /** Shuts down gracefully with SHUTDOWN (flushing the append-only file) and waits. */
  stop(): Promise<void>;
  /** Kills with SIGKILL and waits. */
  kill(): Promise<void>;
}

const READY = "Ready to accept connections";
const START_TIMEOUT_MS = 10_000;

/**
 * Starts `redis-server` and resolves once it accepts connections. Throws (so
 * the test fails rather than skips) when `redis-server` is not installed.
 *
 * @example
 * ```ts ignore
 * import { startRedis } from "./_redis_server.ts";
 * const redis = await startRedis();
 * console.log(redis.url);
 * await redis.stop();
 * ```
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? freePort();
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "nano_modal_redis_" });
  const logFile = `${dir}/redis.log`;
  await Deno.remove(logFile).catch(() => {}); // a previous run's "Ready" line must not count
  const args = ["--port", `${port}`, "--bind", "127.0.0.1", "--save", "", "--dir", dir];
  args.push("--appendonly", options.appendonly ? "yes" : "no", "--logfile", logFile);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("redis-server", {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    })
      .spawn();
  } catch (error) {
    if (ownDir) await Deno.remove(dir, { recursive: true });
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error(
      "redis-server is not installed: the Redis tests need it (apt-get install -y redis-server)",
      { cause: error },
    );
  }
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const cleanup = async () => {
    await status;
    if (ownDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await waitReady(logFile, () => exited);
  } catch (error) {
    if (!exited) child.kill("SIGKILL");
    await cleanup();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop: () =>
      stopped ??= shutdown(port).then(cleanup, async (error) => {
        if (!exited) child.kill("SIGKILL");
        await cleanup();
        throw error;
      }),
    kill: () => {
      if (!exited) child.kill("SIGKILL");
      return stopped ??= cleanup();
    },
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function waitReady(logFile: string, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const log = await Deno.readTextFile(logFile).catch(() => "");
    if (log.includes(READY)) return;
    if (exited()) throw new Error(`redis-server exited during startup:\n${log}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`redis-server did not start within ${START_TIMEOUT_MS} ms (see ${logFile})`);
}

/** Sends SHUTDOWN; Redis closes the connection without replying when it complies. */
async function shutdown(port: number): Promise<void> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return; // already gone
  }
  try {
    await conn.write(new TextEncoder().encode("*1\r\n$8\r\nSHUTDOWN\r\n"));
    const reply = new Uint8Array(512);
    const n = await conn.read(reply).catch(() => null); // a reset also means it went down
    if (n !== null) {
      throw new Error(
        `redis-server refused SHUTDOWN: ${new TextDecoder().decode(reply.slice(0, n))}`,
      );
    }
  } finally {
    conn.close();
  }
}
