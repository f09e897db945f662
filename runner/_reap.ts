/**
 * Finds what dead workers left on this host: sandbox processes still running
 * (a worker killed with SIGKILL before its sandboxes could be told) and
 * sandbox directories (sockets, temp files). A sandbox belongs to the worker
 * whose pid its id carries (`nm-<app>-<function>-<worker pid>-<n>`, see
 * `_pool.ts`); if no process has that pid any more, it is an orphan.
 */
import { processExists } from "./_cgroup.ts";

/** A sandbox directory or socket path, capturing the owning worker's pid. */
const SANDBOX_PATH = /\/sandboxes\/nm-[^/]*-(\d+)-\d+(?:\/sock)?$/;

/** The worker pid a sandbox path or id belongs to, if it is one of ours. */
export function ownerOf(pathOrId: string): number | undefined {
  const m = (pathOrId.startsWith("/") ? pathOrId : `/sandboxes/${pathOrId}`).match(SANDBOX_PATH);
  return m ? Number(m[1]) : undefined;
}

/**
 * Kills sandbox processes under `root` (a worker's sandbox directory) whose
 * worker is gone; returns how many.
 */
export async function reapOrphans(root: string): Promise<number> {
  let killed = 0;
  let entries: Deno.DirEntry[];
  let ours: string;
  try {
    entries = await Array.fromAsync(Deno.readDir("/proc"));
    ours = await Deno.readLink("/proc/self/ns/pid");
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid <= 1 || pid === Deno.pid) continue;
    // A pid means something only in our own PID namespace: a worker in a container on this
    // host numbers its processes differently.
    if (await Deno.readLink(`/proc/${pid}/ns/pid`).catch(() => "") !== ours) continue;
    let argv: string[];
    try {
      argv = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0");
    } catch {
      continue; // gone, or not ours to read
    }
    const owner = argv.filter((a) => a.startsWith(`${root}/`)).map(ownerOf)
      .find((o) => o !== undefined);
    if (owner === undefined || owner === Deno.pid || await processExists(owner)) continue;
    try {
      Deno.kill(pid, "SIGKILL");
      killed++;
    } catch {
      // Already gone.
    }
  }
  return killed;
}

/**
 * Kills orphaned sandbox processes under `root`, then removes the sandbox
 * directories there whose worker is gone; returns how many directories.
 */
export async function reapSandboxes(root: string): Promise<number> {
  await reapOrphans(root);
  return await reapSandboxDirs(root);
}

/** Removes sandbox directories under `root` whose worker is gone; returns how many. */
export async function reapSandboxDirs(root: string): Promise<number> {
  let removed = 0;
  try {
    for await (const entry of Deno.readDir(root)) {
      const owner = ownerOf(entry.name);
      if (owner === undefined || owner === Deno.pid || await processExists(owner)) continue;
      await Deno.remove(`${root}/${entry.name}`, { recursive: true }).catch(() => {});
      removed++;
    }
  } catch {
    // No directory yet: nothing to reap.
  }
  return removed;
}
