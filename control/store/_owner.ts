/**
 * Who wrote a durable record that lives only as long as its process (an
 * ephemeral app): `<hostname>/<pid>`, and whether that process is gone.
 * @module
 */

/** This process, as an owner name. */
export function processOwner(): string {
  return `${Deno.hostname()}/${Deno.pid}`;
}

/**
 * Whether the owner's process has certainly exited: it ran on this host and
 * no process has its pid. Owners on other hosts are never judged gone.
 */
export function isGoneProcess(owner: string): boolean {
  const slash = owner.lastIndexOf("/");
  const host = owner.slice(0, slash);
  const pid = Number(owner.slice(slash + 1));
  if (host !== Deno.hostname() || !Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === Deno.pid) return false;
  try {
    Deno.statSync(`/proc/${pid}`);
    return false;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return false;
  }
  // Without /proc (macOS), a signal that changes nothing tells whether the pid exists.
  try {
    Deno.statSync("/proc/self");
    return true;
  } catch {
    try {
      Deno.kill(pid, "SIGCONT");
      return false;
    } catch (error) {
      return error instanceof Deno.errors.NotFound;
    }
  }
}
