/**
 * A memory cgroup per deno sandbox, so `memoryMiB` bounds the whole sandbox
 * (heap, ArrayBuffers, web workers, its tmpfs) as it does on docker, and so
 * every process of a sandbox can be found and killed. Uses cgroup v1's memory
 * controller, or v2 where the worker's cgroup delegates `memory`; without
 * either, sandboxes run without one (V8's heap limit still applies).
 */

/** Prefix of our cgroups' names: `nano-modal-<worker pid>-<sandbox id>`. */
export const CGROUP_PREFIX = "nano-modal-";

const MIB = 1024 * 1024;

/** One sandbox's cgroup. */
export interface SandboxCgroup {
  /** The file a process writes its pid to, to join. */
  readonly procsFile: string;
  /** Whether the kernel's OOM killer has killed a process in it. */
  oomKilled(): Promise<boolean>;
  /** Kills every process left in it and removes it. */
  remove(): Promise<void>;
}

/** The directory under which this worker may create memory cgroups, or null. */
export async function memoryCgroupParent(): Promise<{ dir: string; v2: boolean } | null> {
  let lines: string[];
  try {
    lines = (await Deno.readTextFile("/proc/self/cgroup")).split("\n");
  } catch {
    return null;
  }
  for (const line of lines) {
    const [, controllers, path] = line.split(":");
    if (controllers?.split(",").includes("memory")) {
      const dir = `/sys/fs/cgroup/memory${path === "/" ? "" : path}`;
      if (await writable(dir)) return { dir, v2: false };
    }
  }
  const unified = lines.find((l) => l.startsWith("0::"));
  if (unified) {
    const dir = `/sys/fs/cgroup${unified.slice(3) === "/" ? "" : unified.slice(3)}`;
    const delegated = await Deno.readTextFile(`${dir}/cgroup.subtree_control`).catch(() => "");
    if (delegated.split(" ").map((s) => s.trim()).includes("memory") && await writable(dir)) {
      return { dir, v2: true };
    }
  }
  return null;
}

async function writable(dir: string): Promise<boolean> {
  const probe = `${dir}/${CGROUP_PREFIX}probe-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.mkdir(probe);
    await Deno.remove(probe);
    return true;
  } catch {
    return false;
  }
}

/** Creates a cgroup limited to `memoryMib` for one sandbox; null if that fails. */
export async function createCgroup(
  parent: { dir: string; v2: boolean },
  sandboxId: string,
  memoryMib: number,
): Promise<SandboxCgroup | null> {
  const dir = `${parent.dir}/${CGROUP_PREFIX}${Deno.pid}-${sandboxId}`;
  const bytes = String(memoryMib * MIB);
  try {
    await Deno.mkdir(dir);
    if (parent.v2) {
      await Deno.writeTextFile(`${dir}/memory.max`, bytes);
      await Deno.writeTextFile(`${dir}/memory.swap.max`, "0").catch(() => {});
    } else {
      await Deno.writeTextFile(`${dir}/memory.limit_in_bytes`, bytes);
      // With swap accounting, swap counts too: over-use ends in the OOM killer, not in swap.
      await Deno.writeTextFile(`${dir}/memory.memsw.limit_in_bytes`, bytes).catch(() => {});
    }
  } catch {
    await removeCgroup(dir);
    return null;
  }
  return {
    procsFile: `${dir}/cgroup.procs`,
    oomKilled: () => oomKills(dir, parent.v2).then((n) => n > 0),
    remove: () => removeCgroup(dir),
  };
}

async function oomKills(dir: string, v2: boolean): Promise<number> {
  const text = await Deno.readTextFile(`${dir}/${v2 ? "memory.events" : "memory.oom_control"}`)
    .catch(() => "");
  const count = Number(text.match(/^oom_kill (\d+)$/m)?.[1] ?? 0);
  if (count > 0 || v2) return count;
  // Kernels before 4.13 have no oom_kill counter: a hit limit is the best sign.
  const failcnt = await Deno.readTextFile(`${dir}/memory.failcnt`).catch(() => "0");
  return Number(failcnt.trim()) > 0 && text.includes("under_oom 1") ? 1 : 0;
}

/** Kills what is left in a cgroup directory and removes it; gone is fine. */
export async function removeCgroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const pids = (await Deno.readTextFile(`${dir}/cgroup.procs`).catch(() => ""))
      .split("\n").map(Number).filter((n) => n > 0);
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    try {
      await Deno.remove(dir);
      return;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      // Busy until the killed processes have been reaped.
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * Removes our empty cgroups under `parentDir` whose worker is gone (a cgroup
 * that still holds processes is left to the reaping of sandbox processes).
 */
export async function reapCgroups(parentDir: string): Promise<number> {
  let reaped = 0;
  try {
    for await (const entry of Deno.readDir(parentDir)) {
      if (!entry.isDirectory || !entry.name.startsWith(CGROUP_PREFIX)) continue;
      const owner = Number(entry.name.slice(CGROUP_PREFIX.length).split("-")[0]);
      if (!Number.isInteger(owner) || owner <= 0 || await processExists(owner)) continue;
      try {
        await Deno.remove(`${parentDir}/${entry.name}`);
        reaped++;
      } catch {
        // Still busy.
      }
    }
  } catch {
    // No such directory: nothing to reap.
  }
  return reaped;
}

/** Whether a process with this pid exists on this host. */
export async function processExists(pid: number): Promise<boolean> {
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}
