/** `nano-modal app list|stop|logs|history|rollback`: manage apps on a control plane. */
import { parse } from "./_args.ts";
import { type CliClient, connect, rpc } from "./_client.ts";
import { UsageError } from "./errors.ts";
import { closest } from "../proto/mod.ts";
import type { LogLine } from "../proto/messages.ts";

export const APP_HELP = `Manage apps.

Usage:
  nano-modal app list                      apps: name, kind, version, state, functions, created
  nano-modal app stop NAME                 stop a deployed app (new calls fail, queued ones are dropped)
  nano-modal app logs NAME [--follow]      recent output of a deployed app's functions
  nano-modal app history NAME              a deployed app's versions
  nano-modal app rollback NAME VERSION     make what VERSION ran current again (as a new version)

Options:
  --server URL     control plane (env NANO_MODAL_SERVER)
  --token TOKEN    token for the server (env NANO_MODAL_TOKEN)
  --follow, -f     (logs) keep printing new output until Ctrl-C
  --lines N        (logs) how many recent lines to print (default 200)
  -h, --help       show this help`;

const SUBCOMMANDS: Record<string, number> = { list: 0, stop: 1, logs: 1, history: 1, rollback: 2 };

/** Runs the `app` command; returns the exit code. */
export async function appCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("app", args, {
    server: { type: "string" },
    token: { type: "string" },
    follow: { type: "boolean", short: "f" },
    lines: { type: "string" },
  });
  const [sub, ...rest] = positionals;
  if (values.help || !sub) {
    console.log(APP_HELP);
    return sub || values.help ? 0 : 2;
  }
  if (!(sub in SUBCOMMANDS)) {
    const near = closest(sub, Object.keys(SUBCOMMANDS));
    throw new UsageError(
      `Unknown app command "${sub}"${
        near ? `: did you mean "${near}"?` : ""
      } (see \`nano-modal app --help\`)`,
    );
  }
  if (rest.length !== SUBCOMMANDS[sub]) {
    const usage = APP_HELP.split("\n").find((l) => l.includes(`app ${sub}`))?.trim().split(
      /\s{2,}/,
    )[0];
    throw new UsageError(`Usage: ${usage}`);
  }
  const cli = await connect(values, `app ${sub}`);
  try {
    switch (sub) {
      case "list":
        return await list(cli);
      case "stop":
        await rpc(cli.serverUrl, () => cli.client.stopApp({ name: rest[0] }));
        console.log(`Stopped app "${rest[0]}"`);
        return 0;
      case "logs":
        return await logs(cli, rest[0], values.follow === true, Number(values.lines ?? 200));
      case "history":
        return await history(cli, rest[0]);
      default: {
        const version = Number(rest[1]);
        if (!Number.isInteger(version) || version < 1) {
          throw new UsageError(`VERSION must be a version number, got "${rest[1]}"`);
        }
        const res = await rpc(
          cli.serverUrl,
          () => cli.client.rollbackApp({ name: rest[0], version }),
        );
        console.log(
          `App "${rest[0]}" now runs version ${version} again, as version ${res.version}`,
        );
        return 0;
      }
    }
  } finally {
    cli.close();
  }
}

function when(ms: number): string {
  return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "-";
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

async function list(cli: CliClient): Promise<number> {
  const { apps } = await rpc(cli.serverUrl, () => cli.client.listApps({}));
  if (apps.length === 0) {
    console.log("No apps: deploy one with `nano-modal deploy APP.ts`");
    return 0;
  }
  const rows = [["NAME", "KIND", "VERSION", "STATE", "FUNCTIONS", "CREATED"]];
  for (const a of apps) {
    rows.push([
      a.name,
      a.ephemeral ? "ephemeral" : "deployed",
      a.ephemeral ? "-" : String(a.version),
      a.stopped ? "stopped" : "running",
      a.functionNames.join(",") || "-",
      when(a.createdMs),
    ]);
  }
  console.log(table(rows));
  return 0;
}

async function history(cli: CliClient, name: string): Promise<number> {
  const res = await rpc(cli.serverUrl, () => cli.client.appHistory({ name }));
  const rows = [["VERSION", "CREATED", "FUNCTIONS", "BUNDLE", "NOTE"]];
  for (const v of res.versions) {
    rows.push([
      `${v.version}${v.version === res.current ? " *" : ""}`,
      when(v.createdMs),
      v.functionNames.join(",") || "-",
      v.bundleHash.slice(0, 12),
      v.rollbackOf ? `rollback to ${v.rollbackOf}` : "",
    ]);
  }
  console.log(table(rows));
  if (!res.current) console.log(`(app "${name}" is stopped)`);
  return 0;
}

function printLine(line: LogLine): void {
  const text = line.text.endsWith("\n") ? line.text : `${line.text}\n`;
  const call = line.callId ? ` ${line.callId}` : "";
  const prefix = `${when(line.timeMs)} [${line.functionName}${call}] `;
  const out = text.replace(/^(?=.)/gm, prefix);
  (line.fd === 1 ? Deno.stdout : Deno.stderr).writeSync(new TextEncoder().encode(out));
}

async function logs(cli: CliClient, name: string, follow: boolean, lines: number): Promise<number> {
  if (!Number.isInteger(lines) || lines < 0) throw new UsageError("--lines must be a whole number");
  const recent = await rpc(cli.serverUrl, () => cli.client.appLogs({ name, maxLines: lines }));
  for (const line of recent.lines) printLine(line);
  if (!follow) return 0;
  const ctl = new AbortController();
  const onSignal = () => ctl.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    await rpc(cli.serverUrl, async () => {
      for await (const batch of cli.client.streamLogs({ name }, { signal: ctl.signal })) {
        for (const line of batch.lines) printLine(line);
      }
    }).catch((err) => {
      if (!ctl.signal.aborted) throw err;
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
  return 0;
}
