/** `nano-modal run APP.ts`: runs an app's local entrypoint against a server (or an embedded one). */
import { parse } from "./_args.ts";
import { configuredServer, tokenFor } from "./config.ts";
import { discoverLocalServer } from "../proto/local_server.ts";
import { RunServer } from "./_run_server.ts";
import { type AppView, runtimeView } from "./_runtime_view.ts";
import { UsageError } from "./errors.ts";
import { typeCheck } from "./_check.ts";
import { closest, trace } from "../proto/mod.ts";
import { loadModule, resolveFile } from "./_load_app.ts";
import { watchRun } from "./_watch.ts";
import { bundleModule } from "../sdk/bundle.ts";
import { cacheDir } from "../proto/cache_dir.ts";
import { pruneCache } from "../proto/cache_prune.ts";

export const RUN_HELP = `Run an app's local entrypoint; its functions run remotely.

Usage: nano-modal run APP.ts[::FUNCTION] [options] [-- args]

With ::FUNCTION, runs that one function with the args (each parsed as JSON
where it parses, else passed as a string) and prints its result.

Options:
  --detach              keep the app running after this command exits or dies
  --server URL          control plane to use (env NANO_MODAL_SERVER); without one,
                        this user's local \`nano-modal serve --with-workers\` if one
                        runs, else an embedded control plane and worker start in
                        this process
  --token TOKEN         token for the server (env NANO_MODAL_TOKEN, else the local
                        ~/.config/nano-modal/token a server of this user generated)
  --runner docker|deno  run on an embedded worker with this runner, even when a local
                        server runs (default: docker if reachable)
  --check               type-check the app with \`deno check\` first; stop on errors
  --watch               serve the app's web endpoints, and run a new version of
                        the app each time APP.ts changes (same URLs)
  -h, --help            show this help`;

function pickApp(file: string, apps: AppView[], functionName?: string): AppView {
  if (apps.length === 0) {
    throw new UsageError(
      `No App in ${file}: create one with \`const app = new App("name")\` (import { App } from "@nano/modal")`,
    );
  }
  if (functionName !== undefined) {
    const having = apps.filter((a) => a.functions.has(functionName));
    if (having.length === 1) return having[0];
    if (having.length > 1) {
      throw new UsageError(
        `Several apps in ${file} have a function "${functionName}": keep one app per file`,
      );
    }
    const names = apps.flatMap((a) => [...a.functions.keys()]);
    const near = closest(functionName, names);
    throw new UsageError(
      `No function "${functionName}" in ${file}${
        near ? `: did you mean "${near}"?` : ` (it has ${names.join(", ") || "none"})`
      }`,
    );
  }
  const runnable = apps.filter((a) => a.hasEntrypoint);
  if (runnable.length === 0) {
    throw new UsageError(
      `App "${
        apps[0].name
      }" in ${file} has no local entrypoint: add app.localEntrypoint(async () => { ... }), or run one function with \`nano-modal run ${file}::${
        [...apps[0].functions.keys()][0] ?? "FUNCTION"
      }\``,
    );
  }
  if (runnable.length > 1) {
    throw new UsageError(
      `${file} defines several apps with local entrypoints (${
        runnable.map((a) => a.name).join(", ")
      }): keep one per file`,
    );
  }
  return runnable[0];
}

/** Runs the `run` command; returns the exit code. */
export async function runCommand(args: string[]): Promise<number> {
  trace("cli loaded");
  const { values, positionals, rest } = parse("run", args, {
    server: { type: "string" },
    token: { type: "string" },
    runner: { type: "string" },
    check: { type: "boolean" },
    detach: { type: "boolean" },
    watch: { type: "boolean" },
  });
  if (values.help) {
    console.log(RUN_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      "Usage: nano-modal run APP.ts [--server URL] [-- args]: give exactly one app file",
    );
  }
  const [file, functionName] = splitTarget(positionals[0]);
  const entryUrl = await resolveFile(file);
  if (values.check) await typeCheck(new URL(entryUrl).pathname, file);
  // A local `nano-modal serve` is used when no server is named: its warm sandboxes start the
  // app's first call at once. --runner asks for an embedded worker.
  const named = configuredServer(values.server);
  const looks = !named && values.runner === undefined;
  // One with workers of its own: a bare `serve` (deploys, secrets) would leave the run waiting.
  const local = looks ? (await discoverLocalServer((s) => s.workers > 0))?.url : undefined;
  if (local) console.error(dim(`nano-modal: using the local server at ${local}`));
  else if (looks) {
    const bare = await discoverLocalServer();
    if (bare) {
      console.error(
        dim(`nano-modal: the local server at ${bare.url} runs no workers: running here`),
      );
    }
  }
  const configured = named ?? local;
  const token = configured
    ? tokenFor({ url: configured, local: local !== undefined }, values.token)
    : undefined;
  const rt = runtimeView();
  rt.mode = "cli";
  if (!configured && values.detach) {
    throw new UsageError(
      "--detach needs a control plane that outlives this command: start `nano-modal serve --with-workers` (found by itself on this machine; not with --runner) or pass --server URL",
    );
  }
  if (named && values.runner !== undefined) {
    throw new UsageError(
      "--runner applies to the embedded worker only: pick the runner on `nano-modal worker` instead",
    );
  }
  // Without a server, one starts in this process when the app asks: while it bundles.
  const embedded = configured
    ? undefined
    : new RunServer({ runner: values.runner, announce: (l) => console.error(dim(l)) });
  embedded?.preload();
  let prebundle: Promise<void> | undefined;
  try {
    if (values.watch) {
      if (functionName !== undefined || values.detach) {
        throw new UsageError("--watch serves an app's endpoints: drop ::FUNCTION and --detach");
      }
      await embedded?.start();
      const server = embedded?.url ?? configured!;
      return await watchRun(file, { server, token: embedded?.token ?? token, args: rest });
    }
    // esbuild starts on the app now, while its module and the client load on this thread; the
    // run takes this bundle unless the app's images install npm packages (they stay imports).
    prebundle = bundleModule(entryUrl).then(() => {}, () => {});
    await loadModule(file, entryUrl);
    trace("app module loaded");
    const app = pickApp(file, rt.apps, functionName);
    const running = app.run({
      serverUrl: embedded?.url ?? configured!,
      token: embedded?.token ?? token,
      startServer: embedded && (() => embedded.start()),
      entryUrl,
      args: rest,
      functionName,
      detach: values.detach === true,
    });
    await (embedded ? Promise.race([running, embedded.failed]) : running);
    return 0;
  } finally {
    // A run that fails early (its module does not load) lets esbuild finish and clean up first.
    await prebundle;
    await embedded?.close();
    // At most once a day: bundles of app files not run for a week go (~0.1 s for 10,000 files).
    await pruneCache(cacheDir()).catch(() => {});
    trace("run done");
  }
}

/** `app.ts::fn` -> ["app.ts", "fn"]; `app.ts` -> ["app.ts", undefined]. */
function splitTarget(target: string): [string, string | undefined] {
  const at = target.lastIndexOf("::");
  if (at < 0) return [target, undefined];
  const fn = target.slice(at + 2);
  if (!/^[A-Za-z_$][\w$]*$/.test(fn)) {
    throw new UsageError(`"${fn}" after :: is not a function name: write APP.ts::myFunction`);
  }
  return [target.slice(0, at), fn];
}

function dim(s: string): string {
  return Deno.stderr.isTerminal() ? `\x1b[2m${s}\x1b[0m` : s;
}
