/** `nano-modal deploy APP.ts`: uploads an app and records a new version that stays running. */
import { parse } from "./_args.ts";
import { tokenFor } from "./config.ts";
import { requireServer } from "./_client.ts";
import { loadModule, resolveFile } from "./_load_app.ts";
import { type AppView, runtimeView } from "./_runtime_view.ts";
import { UsageError } from "./errors.ts";

export const DEPLOY_HELP = `Deploy an app: it keeps running, and any script can call its functions
with RemoteFunction.fromName("APP", "FUNCTION").

Usage: nano-modal deploy APP.ts [options]

Options:
  --name NAME      deploy under this name (default: the name given to new App(...))
  --server URL     control plane to deploy to (env NANO_MODAL_SERVER)
  --token TOKEN    token for the server (env NANO_MODAL_TOKEN)
  -h, --help       show this help`;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function pickApp(file: string, apps: AppView[]): AppView {
  if (apps.length === 0) {
    throw new UsageError(
      `No App in ${file}: create one with \`const app = new App("name")\` (import { App } from "@nano/modal")`,
    );
  }
  if (apps.length > 1) {
    throw new UsageError(
      `${file} defines several apps (${apps.map((a) => a.name).join(", ")}): deploy one per file`,
    );
  }
  return apps[0];
}

/** Runs the `deploy` command; returns the exit code. */
export async function deployCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("deploy", args, {
    name: { type: "string" },
    server: { type: "string" },
    token: { type: "string" },
  });
  if (values.help) {
    console.log(DEPLOY_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      "Usage: nano-modal deploy APP.ts [--name NAME]: give exactly one app file",
    );
  }
  const name = values.name as string | undefined;
  if (name !== undefined && !NAME.test(name)) {
    throw new UsageError(
      `--name "${name}" is not valid: use letters, digits, ".", "_" and "-" (up to 64 characters)`,
    );
  }
  const server = await requireServer(values.server, "deploy");
  const file = positionals[0];
  const entryUrl = await resolveFile(file);
  const rt = runtimeView();
  rt.mode = "cli";
  await loadModule(file, entryUrl);
  const app = pickApp(file, rt.apps);
  const started = performance.now();
  const result = await app.deploy({
    serverUrl: server.url,
    token: tokenFor(server, values.token),
    entryUrl,
    name,
  });
  const ms = Math.round(performance.now() - started);
  if (result.unchanged) {
    console.log(`App "${result.name}" is unchanged: version ${result.version} stays current`);
  } else {
    console.log(`Deployed app "${result.name}" version ${result.version} in ${ms} ms`);
  }
  for (const fn of result.functions) {
    console.log(`  ${fn}  RemoteFunction.fromName("${result.name}", "${fn}")`);
  }
  return 0;
}
