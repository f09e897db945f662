/**
 * The CLI: `nano-modal <command>`, one file per subcommand. This is the only
 * folder that composes the control plane and the runner in one process
 * (embedded mode, {@linkcode startEmbedded}).
 *
 * For the rest of the project: `main.ts` calls {@linkcode cliMain}; tests
 * start an embedded stack with {@linkcode startEmbedded}.
 * @module
 */
import { report, UsageError } from "./errors.ts";
import type { Embedded, EmbeddedOptions } from "./_embedded.ts";
import config from "../deno.json" with { type: "json" };
import { lazy } from "./_lazy.ts";

export type { Embedded, EmbeddedOptions } from "./_embedded.ts";
export { report, UsageError } from "./errors.ts";
/** Types in {@linkcode EmbeddedOptions}, re-exported so the door names all it uses. */
export type { Store } from "../control/mod.ts";
export type { Runner } from "../runner/mod.ts";

/**
 * Starts a control plane and workers in this process (see `_embedded.ts`);
 * the control plane and the runner load only when this is called.
 *
 * @example
 * ```ts ignore
 * import { startEmbedded } from "./mod.ts";
 * import { DenoRunner } from "../runner/mod.ts";
 * const stack = await startEmbedded({ runner: new DenoRunner({ denoDir: "/tmp/d" }), workers: 1 });
 * await stack.close();
 * ```
 */
export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  return await (await lazy<typeof import("./_embedded.ts")>("./_embedded.ts")).startEmbedded(
    options,
  );
}

const HELP = `nano-modal: serverless TypeScript functions on your own machines

Usage: nano-modal <command> [options]

Commands:
  run APP.ts      run an app's local entrypoint; its functions run remotely
  deploy APP.ts   deploy an app: it stays up, callable with RemoteFunction.fromName
  app             list, stop, follow logs of, and roll back apps
  serve           start a control plane (add --with-workers for workers in-process)
  worker          start a worker that takes inputs from a control plane
  autoscaler      start and drain workers as the queue grows and shrinks
  status          workers, queues and apps of a control plane at a glance
  secret          create, list and delete secrets
  volume          create volumes and move files in and out of them
  image           list and prune the docker runner's images on this host

Run \`nano-modal <command> --help\` for a command's options.`;

type Command = (args: string[]) => Promise<number>;

/** Each subcommand's module, imported only when that subcommand runs. */
const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await lazy<typeof import("./run.ts")>("./run.ts")).runCommand,
  deploy: async () => (await lazy<typeof import("./deploy.ts")>("./deploy.ts")).deployCommand,
  app: async () => (await lazy<typeof import("./app.ts")>("./app.ts")).appCommand,
  serve: async () => (await lazy<typeof import("./serve.ts")>("./serve.ts")).serveCommand,
  worker: async () => (await lazy<typeof import("./worker.ts")>("./worker.ts")).workerCommand,
  autoscaler: async () =>
    (await lazy<typeof import("./autoscaler.ts")>("./autoscaler.ts")).autoscalerCommand,
  status: async () => (await lazy<typeof import("./status.ts")>("./status.ts")).statusCommand,
  secret: async () => (await lazy<typeof import("./secret.ts")>("./secret.ts")).secretCommand,
  volume: async () => (await lazy<typeof import("./volume.ts")>("./volume.ts")).volumeCommand,
  image: async () => (await lazy<typeof import("./image.ts")>("./image.ts")).imageCommand,
};

/**
 * Runs `nano-modal` with `args` (without the program name) and returns the
 * exit code; errors a user can cause are printed as one line.
 *
 * @example
 * ```ts ignore
 * import { cliMain } from "./mod.ts";
 * Deno.exit(await cliMain(["--version"]));
 * ```
 */
export async function cliMain(args: string[]): Promise<number> {
  try {
    return await dispatch(args);
  } catch (err) {
    return report(err);
  }
}

async function dispatch(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(HELP);
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-V") {
    // The package's version, as the SDK reports it (sdk/version.ts), without loading the SDK.
    console.log(`nano-modal ${config.version}`);
    return 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    const { closest } = await import("../proto/mod.ts");
    const near = closest(name, Object.keys(commands));
    throw new UsageError(
      `Unknown command "${name}"${
        near ? `: did you mean "${near}"?` : ""
      } (see \`nano-modal --help\`)`,
    );
  }
  return await (await load())(rest);
}
