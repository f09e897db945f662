/**
 * Who wrote a durable record that lives only as long as its process (an
 * ephemeral app): `<hostname>/<pid>/<start>`, where `start` is when the
 * process started (from `/proc`, so a later process that reuses the pid, as
 * PID 1 of a restarted container does, is told apart), and whether that
 * process is gone.
 * @module
 */

/** When process `pid` started, in clock ticks since boot; `"?"` where there is no `/proc`. */
function startOf(pid: number | "self"): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces) start after the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound && hasProc()) return undefined;
    return "?";
  }
}

function hasProc(): boolean {
  try {
    Deno.statSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
}

/** This process, as an owner name. */
export function processOwner(): string {
  return `${Deno.hostname()}/${Deno.pid}/${startOf("self")}`;
}

/**
 * Whether the owner's process has certainly exited: it ran on this host and
 * no process with its pid and start time runs. Owners on other hosts are
 * never judged gone.
 */
export function isGoneProcess(owner: string): boolean {
  const [start, pidText, ...host] = owner.split("/").reverse();
  const pid = Number(pidText);
  if (host.reverse().join("/") !== Deno.hostname()) return false;
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  const now = startOf(pid);
  if (now === undefined) return true; // no such pid
  if (now !== "?") return now !== start; // the pid now belongs to a later process
  // Without /proc (macOS), a signal that changes nothing tells whether the pid exists.
  try {
    Deno.kill(pid, "SIGCONT");
    return false;
  } catch (error) {
    return error instanceof Deno.errors.NotFound;
  }
}
