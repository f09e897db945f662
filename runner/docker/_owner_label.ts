/**
 * The label that says which worker process a container belongs to, so that
 * a worker's reaper removes containers of processes that are gone. Loads
 * nothing (`nano-modal run` labels its early spare with it, `early_spare.ts`).
 */

/** The label that marks a container as ours, valued `<hostname>:<pid>:<process start>`. */
export const WORKER_LABEL = "nano-modal.worker";

/** `<hostname>:<pid>:<start time>`: the start time tells a live worker from a reused pid. */
export async function ownerLabel(): Promise<string> {
  return `${Deno.hostname()}:${Deno.pid}:${await processStart(Deno.pid) ?? ""}`;
}

/** {@linkcode ownerLabel}, read at once. */
export function ownerLabelSync(): string {
  let started = "";
  try {
    started = startField(Deno.readTextFileSync(`/proc/${Deno.pid}/stat`));
  } catch {
    // No /proc: the pid alone.
  }
  return `${Deno.hostname()}:${Deno.pid}:${started}`;
}

/** Whether the process a label names runs (the same one: not a reused pid). */
export async function processAlive(pid: number, started: string | undefined): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = await processStart(pid);
  return now !== undefined && (!started || started === now);
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), or undefined if no such process. */
async function processStart(pid: number): Promise<string | undefined> {
  try {
    return startField(await Deno.readTextFile(`/proc/${pid}/stat`));
  } catch {
    return undefined;
  }
}

/** Field 22 of a /proc/<pid>/stat text. */
function startField(stat: string): string {
  // The command name (field 2) may hold spaces and parentheses: count from its end.
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}
