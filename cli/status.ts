/** `nano-modal status`: workers, queues and apps of a control plane at a glance. */
import { type ClusterStatus, connectStats } from "../autoscale/mod.ts";
import { parse } from "./_args.ts";
import { serverOrLocal, tokenFor } from "./config.ts";
import { UsageError } from "./errors.ts";

export const STATUS_HELP = `Show a control plane's workers, functions and apps.

Usage: nano-modal status [--server URL] [--json]

Options:
  --server URL   control plane (env NANO_MODAL_SERVER; default http://127.0.0.1:50051)
  --json         print one JSON object with "workers", "functions" and "apps" arrays
  --token TOKEN  the server's token (env NANO_MODAL_TOKEN)
  -h, --help     show this help`;

/** Prints the status; returns the exit code. */
export async function statusCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("status", args, {
    server: { type: "string" },
    json: { type: "boolean" },
    token: { type: "string" },
  });
  if (values.help) {
    console.log(STATUS_HELP);
    return 0;
  }
  if (positionals.length) {
    throw new UsageError(`status takes no file or command, got "${positionals[0]}"`);
  }
  const chosen = await serverOrLocal(values.server);
  const server = chosen?.url ?? "http://127.0.0.1:50051";
  const client = connectStats(server, { token: tokenFor(chosen, values.token) });
  let status: ClusterStatus;
  try {
    status = await client.status();
  } catch (err) {
    const e = err as Error & { code?: number };
    // Connect code 16: unauthenticated.
    if (e.code === 16) {
      throw new UsageError(`${server} refused the token: set NANO_MODAL_TOKEN to the server's`);
    }
    throw new UsageError(
      `Cannot reach the control plane at ${server} (${e.message}): start one with \`nano-modal serve\` or pass --server`,
    );
  } finally {
    client.close();
  }
  if (values.json) console.log(JSON.stringify(status));
  else console.log(render(status, Date.now()));
  return 0;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd())
    .join("\n");
}

/** The human form of a status. */
export function render(s: ClusterStatus, nowMs: number): string {
  const ago = (ms: number) => `${Math.max(0, Math.round((nowMs - ms) / 1000))} s ago`;
  return [
    `Workers (${s.workers.length})`,
    table(
      ["ID", "HOST", "RUNNER", "CAPACITY", "BUSY", "LAST HEARTBEAT"],
      s.workers.map((w) => [
        w.id,
        w.host,
        w.runner,
        String(w.capacity),
        String(w.busy),
        ago(w.lastHeartbeatMs),
      ]),
    ),
    "",
    `Functions with work (${s.functions.length})`,
    table(
      ["APP", "FUNCTION", "QUEUED", "RUNNING", "CONTAINERS"],
      s.functions.map((f) => [
        f.app || f.appId,
        f.function,
        String(f.queued),
        String(f.running),
        String(f.containers),
      ]),
    ),
    "",
    `Apps (${s.apps.length})`,
    table(
      ["NAME", "ID", "KIND", "STATE"],
      s.apps.map((a) => [a.name, a.id, a.kind, a.state]),
    ),
  ].join("\n");
}
