/**
 * `nano-modal run --watch APP.ts`: runs the app as a child `nano-modal run`
 * against one control plane, and runs it again as a new ephemeral app (a new
 * bundle) each time the file changes. For an app that serves web endpoints,
 * the new version takes the same URLs once it serves (the gateway routes a
 * name to its newest running app) and the previous one stops once its
 * requests in flight finished (`_watch_drain.ts`). A version that fails to
 * start (a syntax error, say) prints one line and the previous one keeps serving.
 */
import { DRAIN_GRACE_MS, drainThenStop, inFlightProbe } from "./_watch_drain.ts";

/** Changes closer together than this make one reload. */
const DEBOUNCE_MS = 200;
const WHY = {
  finished: "its requests finished",
  grace: `requests still running after ${DRAIN_GRACE_MS / 1000} s`,
  unknown: "the server does not report requests in flight",
};
const READY = /Serving; press Ctrl-C to stop\./;
const URL_LINE = /^\S+: https?:\/\/\S+\/web\/(\S+?)\/\S+$/;

/** What {@linkcode watchRun} runs each version against. */
export interface WatchOptions {
  server: string;
  token?: string;
  /** Arguments after `--`, for the app's local entrypoint. */
  args: string[];
}

/** One version of the app: a child `nano-modal run`. */
class Version {
  readonly child: Deno.ChildProcess;
  /** Resolves true once it serves, false if it ended first. */
  readonly ready: Promise<boolean>;
  readonly exited: Promise<Deno.CommandStatus>;
  /** What it printed on stderr before it served. */
  early: string[] = [];
  /** The app's name, as its endpoints' URLs show it. */
  app?: string;

  constructor(file: string, options: WatchOptions & { quiet: boolean }) {
    const cli = new URL("../main.ts", import.meta.url);
    const self = cli.protocol === "file:" ? ["run", "-A", cli.pathname] : [];
    const rest = options.args.length ? ["--", ...options.args] : [];
    this.child = new Deno.Command(Deno.execPath(), {
      args: [...self, "run", file, "--server", options.server, ...rest],
      env: options.token ? { NANO_MODAL_TOKEN: options.token } : {},
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.exited = this.child.status;
    const ready = Promise.withResolvers<boolean>();
    this.ready = ready.promise;
    let serving = false;
    forward(this.child.stdout, (line) => {
      const url = serving ? null : URL_LINE.exec(line);
      if (url) this.app ??= decodeURIComponent(url[1]);
      if (!(options.quiet && url)) console.log(line);
    });
    forward(this.child.stderr, (line) => {
      if (serving) return console.error(line);
      if (READY.test(line)) {
        serving = true;
        ready.resolve(true);
        if (!options.quiet) console.error(line);
      } else if (options.quiet) this.early.push(line);
      else console.error(line);
    }).finally(() => ready.resolve(false));
  }

  /** Stops it (its app stops with it). */
  async stop(): Promise<void> {
    try {
      this.child.kill("SIGINT");
    } catch {
      // Already gone.
    }
    await this.exited;
  }
}

/** Runs `file` and reruns it on each change until Ctrl-C; returns the exit code. */
export async function watchRun(file: string, options: WatchOptions): Promise<number> {
  let current = new Version(file, { ...options, quiet: false });
  if (!await current.ready) return (await current.exited).code;
  const previous = new Set<Version>();
  // The folder, not the file: editors that save by renaming replace the file watched.
  const path = await Deno.realPath(file);
  const watcher = Deno.watchFs(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: false });
  const interrupted = Promise.withResolvers<void>();
  const onSignal = () => interrupted.resolve();
  for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, onSignal);
  interrupted.promise.then(() => watcher.close());
  let version = 1;
  const quitting = new AbortController();
  try {
    for await (const _ of debounced(watcher, path)) {
      const next = new Version(file, { ...options, quiet: true });
      if (!await next.ready) {
        const why = firstError(next.early);
        console.error(
          `${file} changed, but it does not start (${why}): still serving the previous version`,
        );
        await next.exited;
        continue;
      }
      version++;
      console.error(`${file} changed: reloaded (version ${version})`);
      const old = current;
      current = next;
      previous.add(old);
      const app = old.app ?? current.app;
      const probe = app
        ? inFlightProbe(options.server, app, options.token)
        : () => Promise.resolve(null);
      const was = version - 1;
      drainThenStop(() => old.stop(), probe, { signal: quitting.signal })
        .then((end) => end !== "quit" && console.error(`version ${was} stopped: ${WHY[end]}`))
        .finally(() => previous.delete(old));
    }
  } finally {
    for (const s of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(s, onSignal);
    quitting.abort();
  }
  await Promise.all([current, ...previous].map((v) => v.stop()));
  return 0;
}

/** Yields once per burst of changes to `path`, {@linkcode DEBOUNCE_MS} after its last event. */
async function* debounced(watcher: Deno.FsWatcher, path: string): AsyncGenerator<void> {
  const it = watcher[Symbol.asyncIterator]();
  let next = it.next();
  while (true) {
    const first = await next;
    if (first.done) return;
    next = it.next();
    if (first.value.kind === "access" || !first.value.paths.includes(path)) continue;
    // Swallow the rest of the burst.
    while (true) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const quiet = new Promise<"quiet">((r) => timer = setTimeout(() => r("quiet"), DEBOUNCE_MS));
      const more = await Promise.race([next, quiet]);
      clearTimeout(timer);
      if (more === "quiet") break;
      if (more.done) return;
      next = it.next();
    }
    yield;
  }
}

/** The line of a failed start that says what went wrong. */
function firstError(lines: string[]): string {
  const text = lines.map((l) => l.trim()).filter(Boolean);
  // deno-lint-ignore no-control-regex -- colours
  const plain = text.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ""));
  return (plain.find((l) => /^error\b|^nano-modal:|Error\b/.test(l)) ?? plain.at(-1) ??
    "it exited").slice(0, 300);
}

async function forward(stream: ReadableStream<Uint8Array>, line: (text: string) => void) {
  let buffered = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const l of lines) line(l);
  }
  if (buffered) line(buffered);
}
