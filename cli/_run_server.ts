/**
 * The control plane and worker that `nano-modal run` starts in its own
 * process when no server is configured. Its port is chosen at once, so the
 * app knows its URL; it starts when the app asks (`RunOptions.startServer`),
 * once the app's bundling is under way, so that the two overlap. The control
 * plane and the runner are imported only for such a run, but from its first
 * moment ({@linkcode RunServer.preload}): their modules load, and the runner
 * learns what isolation the host gives, while the app's module loads.
 */
import type { Embedded, startEmbedded } from "./_embedded.ts";
import type { Runner } from "../runner/mod.ts";
import { trace } from "../proto/mod.ts";
import { cacheDir } from "../proto/cache_dir.ts";
import { runnerName } from "./_runner_name.ts";
import { lazy } from "./_lazy.ts";
import { dockerSocketPath, type EarlySpare, startEarlySpare } from "../runner/early.ts";

/** What the deno runner offers for a quick first sandbox (see runner/_spare.ts). */
interface Prestart {
  prestart(options: { cacheDir: string; preloadSdk?: boolean }): void;
  dropSpare(): Promise<void>;
}

/** How long a run's end waits for its early container's start, to remove it. */
const EARLY_DROP_WAIT_MS = 1_000;

/** A free loopback port, chosen by the kernel. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** How {@linkcode RunServer} picks its runner. */
export interface RunServerOptions {
  /** The `--runner` flag, if given. */
  runner: string | boolean | undefined;
  /** Prints which runner it uses. */
  announce: (line: string) => void;
}

/** An embedded control plane with one worker, started on demand. */
export class RunServer {
  /** The URL it serves on once started. */
  readonly url: string;
  /** The token it requires (a fresh one per run). */
  readonly token = crypto.randomUUID();
  readonly #options: RunServerOptions;
  readonly #failed = Promise.withResolvers<never>();
  #starting?: Promise<Embedded>;
  #loading?: Promise<{ runner: Runner; startEmbedded: typeof startEmbedded }>;
  /** The container started before the runner loaded (its first spare, if it fits). */
  #early?: Promise<EarlySpare | undefined>;
  /** What choosing the runner had to say, kept until the server starts. */
  readonly #said: string[] = [];

  /** Chooses its port; nothing starts yet. */
  constructor(options: RunServerOptions) {
    this.#options = options;
    this.url = `http://127.0.0.1:${freePort()}`;
    this.#failed.promise.catch(() => {}); // observed by callers that care
  }

  /**
   * Loads the control plane and the runner and picks the runner (once),
   * without starting anything that serves: what {@linkcode RunServer.start}
   * needs first, begun while the caller does other work.
   */
  preload(): void {
    this.#loading ??= (async () => {
      // Where docker may be the runner, a container starts first of all, as the last spare did:
      // the ~0.3 s of its start overlap the loading of everything below (~0.1 s), not follow it.
      const name = runnerName(this.#options.runner);
      if (name === "auto" || name === "docker") {
        this.#early = startEarlySpare(cacheDir(), dockerSocketPath()).then((early) => {
          if (early) trace("early spare started");
          return early;
        }, () => undefined);
      }
      // The runner first (the smaller graph), so that its sandbox can start early.
      const embedded = lazy<typeof import("./_embedded.ts")>("./_embedded.ts");
      const { chooseRunner } = await lazy<typeof import("./_runner.ts")>("./_runner.ts");
      // Said once the server starts: a run that stops earlier (its app does not load) says nothing.
      const runner = await chooseRunner(
        this.#options.runner,
        (line) => this.#said.push(line),
        this.#early,
      );
      // What isolation the host gives is learnt by running a few programs:
      // learn it now, not when the first sandbox starts.
      (runner as { isolation?: () => Promise<unknown> }).isolation?.().catch(() => {});
      // The runner starts a sandbox now (a deno process, or a container of the default image), to
      // become the app's first sandbox (runner/_spare.ts, runner/docker/_spare.ts) if that one
      // has the SDK's default limits and nothing special. Its bundles are this user's own: a
      // deno spare may load their SDK ahead.
      (runner as Partial<Prestart>).prestart?.({ cacheDir: cacheDir(), preloadSdk: true });
      trace("runner chosen");
      const { startEmbedded } = await embedded;
      trace("control plane and runner loaded");
      return { runner, startEmbedded };
    })();
    this.#loading.catch(() => {}); // start() reports it
  }

  /** Starts it (once); resolves when it serves, rejects with an error a user can act on. */
  start(): Promise<void> {
    this.#starting ??= (async () => {
      this.preload();
      const { runner, startEmbedded } = await this.#loading!;
      for (const line of this.#said.splice(0)) this.#options.announce(line);
      const port = Number(new URL(this.url).port);
      const embedded = await startEmbedded({ runner, workers: 1, token: this.token, port });
      embedded.failed.catch((err) => this.#failed.reject(err));
      trace("embedded server up");
      return embedded;
    })();
    return this.#starting.then(() => {});
  }

  /** Rejects if, once started, its worker stops on an error (nothing would run the inputs). */
  get failed(): Promise<never> {
    return this.#failed.promise;
  }

  /** Stops it, if it started, and a spare sandbox nothing took. */
  async close(): Promise<void> {
    await (await this.#starting?.catch(() => undefined))?.close();
    const loaded = await this.#loading?.catch(() => undefined);
    await (loaded?.runner as Partial<Prestart> | undefined)?.dropSpare?.();
    // Removed unless the runner took it (it was not docker, or failed to load). One the daemon
    // has not started yet is left to the next worker's reaper: its label names this process.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const early = await Promise.race([
      this.#early,
      new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), EARLY_DROP_WAIT_MS)),
    ]);
    clearTimeout(timer);
    await early?.drop();
  }
}
