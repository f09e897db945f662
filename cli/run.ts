/** `nano-modal run APP.ts`: runs an app's local entrypoint against a server (or an embedded one). */
import { parse } from "./_args.ts";
import { chooseRunner } from "./_runner.ts";
import { configuredServer, configuredToken } from "./config.ts";
import { startEmbedded } from "./_embedded.ts";
import { type AppView, runtimeView } from "./_runtime_view.ts";
import { UsageError } from "./errors.ts";
import { loadModule, resolveFile } from "./_load_app.ts";

export const RUN_HELP = `Run an app's local entrypoint; its functions run remotely.

Usage: nano-modal run APP.ts [options] [-- args for the entrypoint]

Options:
  --server URL          control plane to use (env NANO_MODAL_SERVER); without one,
                        an embedded control plane and worker start in this process
  --token TOKEN         token for the server (env NANO_MODAL_TOKEN)
  --runner docker|deno  runner for the embedded worker (default: docker if reachable)
  -h, --help            show this help`;

function pickApp(file: string, apps: AppView[]): AppView {
  if (apps.length === 0) {
    throw new UsageError(
      `No App in ${file}: create one with \`const app = new App("name")\` (import { App } from "@nano/modal")`,
    );
  }
  const runnable = apps.filter((a) => a.hasEntrypoint);
  if (runnable.length === 0) {
    throw new UsageError(
      `App "${
        apps[0].name
      }" in ${file} has no local entrypoint: add app.localEntrypoint(async () => { ... })`,
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
  const { values, positionals, rest } = parse("run", args, {
    server: { type: "string" },
    token: { type: "string" },
    runner: { type: "string" },
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
  const file = positionals[0];
  const entryUrl = await resolveFile(file);
  let server = configuredServer(values.server);
  let token = configuredToken(values.token);
  const rt = runtimeView();
  rt.mode = "cli";

  let embedded: Awaited<ReturnType<typeof startEmbedded>> | undefined;
  try {
    if (!server) {
      const runner = await chooseRunner(values.runner, (l) => console.error(dim(l)));
      token = crypto.randomUUID();
      embedded = await startEmbedded({ runner, workers: 1, token });
      server = embedded.url;
    } else if (values.runner !== undefined) {
      throw new UsageError(
        "--runner applies to the embedded worker only: pick the runner on `nano-modal worker` instead",
      );
    }
    await loadModule(file, entryUrl);
    const app = pickApp(file, rt.apps);
    const running = app.run({ serverUrl: server, token, entryUrl, args: rest });
    await (embedded ? Promise.race([running, embedded.failed]) : running);
    return 0;
  } finally {
    await embedded?.close();
  }
}

function dim(s: string): string {
  return Deno.stderr.isTerminal() ? `\x1b[2m${s}\x1b[0m` : s;
}
