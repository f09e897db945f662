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
import { runCommand } from "./run.ts";
import { deployCommand } from "./deploy.ts";
import { appCommand } from "./app.ts";
import { serveCommand } from "./serve.ts";
import { workerCommand } from "./worker.ts";
import { autoscalerCommand } from "./autoscaler.ts";
import { statusCommand } from "./status.ts";
import { secretCommand } from "./secret.ts";
import { volumeCommand } from "./volume.ts";
import { closest } from "../proto/mod.ts";
import { imageCommand } from "./image.ts";
import { VERSION } from "../sdk/mod.ts";

export { type Embedded, type EmbeddedOptions, startEmbedded } from "./_embedded.ts";
export { report, UsageError } from "./errors.ts";
/** Types in {@linkcode EmbeddedOptions}, re-exported so the door names all it uses. */
export type { Store } from "../control/mod.ts";
export type { Runner } from "../runner/mod.ts";

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

const commands: Record<string, (args: string[]) => Promise<number>> = {
  run: runCommand,
  deploy: deployCommand,
  app: appCommand,
  serve: serveCommand,
  worker: workerCommand,
  autoscaler: autoscalerCommand,
  status: statusCommand,
  secret: secretCommand,
  volume: volumeCommand,
  image: imageCommand,
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
    console.log(`nano-modal ${VERSION}`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    const near = closest(name, Object.keys(commands));
    throw new UsageError(
      `Unknown command "${name}"${
        near ? `: did you mean "${near}"?` : ""
      } (see \`nano-modal --help\`)`,
    );
  }
  return await command(rest);
}
