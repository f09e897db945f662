/**
 * A plain script (`deno run -A app.ts`) runs as if under `nano-modal run`:
 * the SDK hands the file to the CLI, which it finds the documented way
 * ({@linkcode cliCommand}), never by a path relative to the SDK's own files.
 */
import { runtime } from "./_runtime.ts";

const SDK_DIR = new URL(".", import.meta.url).href;

/** The URL of the first stack frame outside the SDK. */
export function callerUrl(): string | undefined {
  const stack = new Error().stack ?? "";
  for (const line of stack.split("\n").slice(1)) {
    const m = line.match(/((?:file|https?):\/\/[^\s)]+?):\d+:\d+\)?$/);
    if (m && !m[1].startsWith(SDK_DIR)) return m[1];
  }
  return undefined;
}

/**
 * How a plain script (`deno run -A app.ts`) reaches the CLI: the SDK never
 * assumes where the CLI lives on disk. `NANO_MODAL_CLI` names it (a
 * `nano-modal` binary, or a `.ts`/`.js` module path or URL run with
 * `deno run -A`); otherwise `nano-modal` on `PATH`.
 */
export function cliCommand(env: (name: string) => string | undefined): string[] | undefined {
  const configured = env("NANO_MODAL_CLI");
  if (configured) {
    return /\.(ts|js|mjs)$/.test(configured)
      ? [Deno.execPath(), "run", "-A", configured]
      : [configured];
  }
  for (const dir of (env("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/nano-modal`).isFile) return [`${dir}/nano-modal`];
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** Re-runs this script under `nano-modal run`, forwarding its arguments and exit code. */
export async function runAsScript(mainUrl: string): Promise<void> {
  runtime().mode = "cli";
  const cli = cliCommand((name) => Deno.env.get(name));
  if (!cli) {
    console.error(
      "error: cannot find the nano-modal CLI to run this script: install it (`deno task install` in the nano-modal repo), set NANO_MODAL_CLI to its path, or run `nano-modal run` on the file",
    );
    Deno.exit(1);
  }
  try {
    const child = new Deno.Command(cli[0], {
      args: [...cli.slice(1), "run", new URL(mainUrl).pathname, "--", ...Deno.args],
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    Deno.exit((await child.status).code);
  } catch (err) {
    console.error(
      `error: cannot start the nano-modal CLI (${cli.join(" ")}: ${
        (err as Error).message
      }): check NANO_MODAL_CLI or run \`nano-modal run\` on the file`,
    );
    Deno.exit(1);
  }
}
