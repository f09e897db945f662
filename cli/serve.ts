/** `nano-modal serve`: a control plane, optionally with workers in the same process. */
import {
  connectRedisStore,
  dashboardKey,
  InsecureListenError,
  RedisUnavailableError,
  type Store,
} from "../control/mod.ts";
import { intFlag, parse } from "./_args.ts";
import { chooseRunner } from "./_runner.ts";
import { checkedToken, configuredDataDir, type ServerToken, serverToken } from "./config.ts";
import { openDataDir, startEmbedded } from "./_embedded.ts";
import { UsageError } from "./errors.ts";
import { announceLocalServer } from "../proto/local_server.ts";
import { eventLogFromFlags } from "./_events.ts";

export const SERVE_HELP = `Start a control plane.

Usage: nano-modal serve [options]

Options:
  --port N               port to listen on (default 50051; 0 picks a free one)
  --host ADDR            address to listen on (default 127.0.0.1; others need --token)
  --with-workers [N]     also run N workers in this process (default 1)
  --concurrency N        inputs each embedded worker holds at once (default 32)
  --runner docker|deno   runner for embedded workers (default: docker if reachable)
  --no-spare             embedded workers keep no sandbox started ahead (by default each
                         keeps one, a process or a container of the default image, so a
                         new app's first call skips its start)
  --data-dir DIR         where apps, bundles and other durable records live without
                         Redis (env NANO_MODAL_DATA_DIR; default
                         $XDG_DATA_HOME/nano-modal or ~/.local/share/nano-modal)
  --redis URL            keep queues and state in Redis (env NANO_MODAL_REDIS_URL);
                         several control planes may share one Redis
  --retention-hours N    how long results stay retrievable (default 24)
  --results-mib N        without Redis: memory for results kept to fetch again (spawned
                         calls); past it the oldest are evicted (default 64)
  --token TOKEN          require this token on every RPC (env NANO_MODAL_TOKEN); without
                         one, a generated token kept in ~/.config/nano-modal/token (0600)
  --log-format text|json one line per event (apps, workers, containers, images, lost
                         inputs) as text or JSON (default text)
  --quiet                print no event lines
  --worker-token TOKEN   a separate token for workers (env NANO_MODAL_WORKER_TOKEN): then
                         only it opens worker RPCs, and the client token cannot
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

/** The embedded store on `dataDir`, or Redis when a URL is given; warns about risky settings. */
async function openStore(
  redisUrl: string | undefined,
  options: { retentionMs: number; dataDir: string; retainedOutputBytes: number },
): Promise<Store> {
  if (!redisUrl) return await openDataDir(options.dataDir, options);
  const { retentionMs } = options;
  if (!/^rediss?:\/\//.test(redisUrl)) {
    throw new UsageError(
      `--redis "${redisUrl}" is not a Redis URL: use e.g. redis://127.0.0.1:6379`,
    );
  }
  try {
    const store = await connectRedisStore(redisUrl, { retentionMs });
    for (const warning of await store.warnings()) console.error(warning);
    return store;
  } catch (err) {
    if (err instanceof RedisUnavailableError) {
      // At start, serve does not wait for Redis: it stops and says so. Once running, it rides
      // out outages (RPCs fail with Unavailable meanwhile) and reconnects.
      const what = err.message.match(/^(Redis at \S+ is unreachable \([^)]*\))/)?.[1] ??
        "Redis is unreachable";
      throw new UsageError(
        `${what}: serve did not start; start Redis (or fix --redis), then start serve again`,
      );
    }
    throw err;
  }
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** How clients find the token (never the token itself: logs are not the place for it). */
function tokenHelp(auth: ServerToken, url: string): string {
  if (!auth.file) {
    return "token: the one you configured (clients and workers pass --token or set NANO_MODAL_TOKEN)";
  }
  return `token: ${auth.generated ? "generated and stored" : "read"} in ${auth.file} (0600); ` +
    `local clients and workers of this user use it as is; ` +
    `elsewhere: NANO_MODAL_SERVER=${url} NANO_MODAL_TOKEN=$(cat ${auth.file})`;
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
    "data-dir": { type: "string" },
    "retention-hours": { type: "string" },
    "results-mib": { type: "string" },
    token: { type: "string" },
    "worker-token": { type: "string" },
    "log-format": { type: "string" },
    quiet: { type: "boolean" },
    "no-spare": { type: "boolean" },
  });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  if (positionals.length) {
    throw new UsageError(`serve takes no file or command, got "${positionals[0]}"`);
  }
  const eventLog = eventLogFromFlags(values);
  const port = intFlag("port", values.port, { default: 50051, min: 0, max: 65535 });
  const workers = intFlag("with-workers", values["with-workers"], { default: 0, min: 0, max: 64 });
  const capacity = intFlag("concurrency", values.concurrency, {
    default: 32,
    min: 1,
    max: 100_000,
  });
  const hostname = typeof values.host === "string" ? values.host : "127.0.0.1";
  const auth = serverToken(values.token);
  // Beyond loopback, clients on other hosts need a token someone chose and handed out.
  if (auth.file && !LOOPBACK.has(hostname)) throw new InsecureListenError(hostname);
  const token = auth.token;
  const workerTokenFlag = typeof values["worker-token"] === "string" && values["worker-token"];
  const workerTokenEnv = Deno.env.get("NANO_MODAL_WORKER_TOKEN");
  const workerToken = workerTokenFlag
    ? checkedToken(workerTokenFlag, "--worker-token")
    : workerTokenEnv
    ? checkedToken(workerTokenEnv, "NANO_MODAL_WORKER_TOKEN")
    : undefined;
  if (workerToken === token) {
    throw new UsageError(
      "--worker-token must differ from the client token, or roles do not separate",
    );
  }
  const redisUrl = (values.redis as string | undefined) ?? Deno.env.get("NANO_MODAL_REDIS_URL");
  const retentionHours = intFlag("retention-hours", values["retention-hours"], {
    default: 24,
    min: 1,
    max: 24 * 365,
  });
  const resultsMib = intFlag("results-mib", values["results-mib"], {
    default: 64,
    min: 1,
    max: 1024 * 1024,
  });
  const dataDir = configuredDataDir(values["data-dir"]);
  const store = await openStore(redisUrl, {
    retentionMs: retentionHours * 3_600_000,
    dataDir,
    retainedOutputBytes: resultsMib * 1024 * 1024,
  });
  const runner = workers > 0
    ? await chooseRunner(values.runner, (l) => console.error(l))
    : undefined;
  let server;
  try {
    server = await startEmbedded({
      runner: runner!,
      workers,
      // A long-running server's workers keep a sandbox ready for each new app's first.
      spare: !values["no-spare"],
      hostname,
      port,
      token,
      workerToken,
      workerCapacity: capacity,
      store,
      eventLog,
      state: { dataDir },
    });
  } catch (err) {
    if (err instanceof InsecureListenError) throw err;
    if (err instanceof Deno.errors.AddrInUse) {
      throw new UsageError(`Port ${port} is already in use: stop the other server or pass --port`);
    }
    throw err;
  }
  // Commands of this user on this machine that name no server use this one: when it takes the
  // token they read by themselves (the local token file), not one only its starter knows.
  const listening = Number(new URL(server.url).port);
  const withdraw = auth.file
    ? await announceLocalServer({
      url: localUrl(hostname, listening, server.url),
      port: listening,
      workers,
      dataDir: redisUrl ? undefined : dataDir,
    })
    : () => {};
  console.error(
    `nano-modal control plane listening on ${server.url} (${store.kind} store${
      redisUrl ? "" : ` in ${dataDir}`
    }${
      workers ? `, ${workers} worker${workers > 1 ? "s" : ""}, ${runner!.name} runner` : ""
    }, token required${workerToken ? ", separate worker token" : ""})`,
  );
  console.error(tokenHelp(auth, server.url));
  // The login URL sets a cookie and leaves the address bar at once (see control/dashboard). It
  // carries a key derived from the token that opens the dashboard but no RPC: the log holds no
  // credential that runs code.
  console.error(`dashboard: ${server.url}/?token=${await dashboardKey(token)}`);
  server.failed.catch((err) => console.error(`error: embedded worker stopped: ${err.message}`));
  const stop = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGINT", () => stop.resolve());
  Deno.addSignalListener("SIGTERM", () => stop.resolve());
  await stop.promise;
  console.error("nano-modal: shutting down");
  withdraw();
  await server.close();
  return 0;
}

/** The URL a client on this machine reaches a server listening on `hostname` by. */
function localUrl(hostname: string, port: number, url: string): string {
  if (["::", "::1", "[::1]"].includes(hostname)) return `http://[::1]:${port}`;
  return hostname === "0.0.0.0" || LOOPBACK.has(hostname) ? `http://127.0.0.1:${port}` : url;
}
