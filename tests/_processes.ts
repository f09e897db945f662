/** Helpers for end-to-end tests that look at the processes a worker left or started. */

/** Pids of the processes whose command line mentions `marker` (a cache dir, a function name). */
export async function processesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    const pid = Number(e.name);
    if (!pid || pid === Deno.pid) continue;
    const cmd = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
    if (cmd.includes(marker)) found.push(pid);
  }
  return found;
}
