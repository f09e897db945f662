/**
 * nano-modal: the one program that is server, worker or client by subcommand.
 * This file only dispatches; each command lives in cli/.
 * @module
 */
import { report, UsageError } from "./cli/errors.ts";
import { runCommand } from "./cli/run.ts";
import { deployCommand } from "./cli/deploy.ts";
import { appCommand } from "./cli/app.ts";
import { serveCommand } from "./cli/serve.ts";
import { workerCommand } from "./cli/worker.ts";
import { closest } from "./sdk/suggest.ts";

const HELP = `nano-modal: serverless TypeScript functions on your own machines

Usage: nano-modal <command> [options]

Commands:
  run APP.ts      run an app's local entrypoint; its functions run remotely
  deploy APP.ts   deploy an app: it stays up, callable with RemoteFunction.fromName
  app             list, stop, follow logs of, and roll back apps
  serve           start a control plane (add --with-workers for workers in-process)
  worker          start a worker that takes inputs from a control plane

Run \`nano-modal <command> --help\` for a command's options.`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  run: runCommand,
  deploy: deployCommand,
  app: appCommand,
  serve: serveCommand,
  worker: workerCommand,
};

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(HELP);
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-V") {
    console.log("nano-modal 0.1.0");
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

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (err) {
    code = report(err);
  }
  Deno.exit(code);
}
