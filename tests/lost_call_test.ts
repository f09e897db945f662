// A store that loses a map's call record in the middle (eviction, data loss; FLUSHALL here):
// the client ends with one clear error instead of waiting for outputs that never come.
import { match, ok } from "node:assert/strict";
import { CliProcess, startServe } from "./_cli.ts";
import { startRedis } from "./_redis_server.ts";
import { createClient } from "../proto/deps.ts";
import { ControlService } from "../proto/messages.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { readTokenFile } from "../proto/token_file.ts";

async function queued(url: string): Promise<number> {
  const { transport, close } = createRpcTransport({ baseUrl: url, token: readTokenFile() });
  try {
    const stats = await createClient(ControlService, transport).getStats({});
    return stats.queues.reduce((n, q) => n + q.queued, 0);
  } finally {
    close();
  }
}

async function redisCommand(port: number, command: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(`${command}\r\n`));
    const buf = new Uint8Array(256);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  } finally {
    conn.close();
  }
}

Deno.test("a map whose call record disappears from the store ends with a clear error, not a silent wait", async () => {
  const redis = await startRedis();
  const cp = await startServe(["--redis", redis.url]);
  // No worker: the inputs stay queued, so the map is still waiting when the store loses it.
  const run = new CliProcess(["run", "--server", cp.url, "tests/fixtures/fanout.ts", "--", "20"]);
  try {
    const deadline = Date.now() + 30_000;
    while ((await queued(cp.url)) < 20) {
      ok(Date.now() < deadline, `the map's inputs were never queued:\n${run.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    match(await redisCommand(redis.port, "FLUSHALL"), /^\+OK/);
    const started = Date.now();
    const code = await Promise.race([
      run.exited(),
      new Promise<string>((r) => setTimeout(() => r("still waiting"), 30_000)),
    ]);
    ok(code !== "still waiting", `the client still waits 30 s after the store lost its map`);
    ok(code !== 0, "the map does not claim success");
    match(run.stderr, /gone from the server's store.*run the map again|No map call/);
    ok(!/\n\s+at /.test(run.stderr), `no stack trace:\n${run.stderr}`);
    ok(Date.now() - started < 30_000);
  } finally {
    await run.stop("SIGKILL");
    await cp.proc.stop();
    await redis.stop();
  }
});
