/** Which runner a command asked for; loads nothing (`_run_server.ts` reads it at a run's start). */

/** The `--runner` flag, else `NANO_MODAL_RUNNER`, else "auto" (docker where a daemon answers). */
export function runnerName(flag: string | boolean | undefined): string {
  return String(flag ?? Deno.env.get("NANO_MODAL_RUNNER") ?? "auto");
}
