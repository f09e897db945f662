/** `nano-modal serve`: a control plane, optionally with workers in the same process. */
import { InsecureListenError } from "../control/mod.ts";
import { intFlag, parse } from "./_args.ts";
import { chooseRunner } from "./_runner.ts";
import { configuredToken } from "./config.ts";
import { startEmbedded } from "./_embedded.ts";
import { UsageError } from "./errors.ts";

export const SERVE_HELP = `Start a control plane.

Usage: nano-modal serve [options]

Options:
  --port N               port to listen on (default 50051; 0 picks a free one)
  --host ADDR            address to listen on (default 127.0.0.1; others need a token)
  --with-workers [N]     also run N workers in this process (default 1)
  --concurrency N        inputs each embedded worker holds at once (default 32)
  --runner docker|deno   runner for embedded workers (default: docker if reachable)
  --redis URL            keep queues and state in Redis (env NANO_MODAL_REDIS_URL)
  --token TOKEN          require this token on every RPC (env NANO_MODAL_TOKEN)
  -h, --help             show this help`;

/** `--with-workers` takes an optional count: turn `--with-workers` alone into `--with-workers=1`. */
function normalizeWithWorkers(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--with-workers") {
      const next = args[i + 1];
      if (next !== undefined && /^\d+$/.test(next)) {
        out.push(`--with-workers=${next}`);
        i++;
      } else out.push("--with-workers=1");
    } else out.push(args[i]);
  }
  return out;
}

/** Runs the `serve` command until SIGINT/SIGTERM; returns the exit code. */
export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("serve", normalizeWithWorkers(args), {
    port: { type: "string" },
    host: { type: "string" },
    "with-workers": { type: "string" },
    concurrency: { type: "string" },
    runner: { type: "string" },
    redis: { type: "string" },
    token: { type: "string" },
  });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  if (positionals.length) {
    throw new UsageError(`serve takes no file or command, got "${positionals[0]}"`);
  }
  const port = intFlag("port", values.port, 50051, 0, 65535);
  const workers = intFlag("with-workers", values["with-workers"], 0, 0, 64);
  const capacity = intFlag("concurrency", values.concurrency, 32, 1, 100_000);
  const token = configuredToken(values.token);
  const hostname = typeof values.host === "string" ? values.host : "127.0.0.1";
  const redisUrl = (values.redis as string | undefined) ?? Deno.env.get("NANO_MODAL_REDIS_URL");
  if (redisUrl) {
    throw new UsageError(
      "--redis is not available in this build yet: run without it for the embedded backend",
    );
  }
  const runner = workers > 0
    ? await chooseRunner(values.runner, (l) => console.error(l))
    : undefined;
  let server;
  try {
    server = await startEmbedded({
      runner: runner!,
      workers,
      hostname,
      port,
      token,
      workerCapacity: capacity,
    });
  } catch (err) {
    if (err instanceof InsecureListenError) throw err;
    if (err instanceof Deno.errors.AddrInUse) {
      throw new UsageError(`Port ${port} is already in use: stop the other server or pass --port`);
    }
    throw err;
  }
  console.error(
    `nano-modal control plane listening on ${server.url} (memory backend${
      workers ? `, ${workers} worker${workers > 1 ? "s" : ""}, ${runner!.name} runner` : ""
    }${token ? ", token required" : ""})`,
  );
  const stop = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGINT", () => stop.resolve());
  Deno.addSignalListener("SIGTERM", () => stop.resolve());
  await stop.promise;
  console.error("nano-modal: shutting down");
  await server.close();
  return 0;
}
