/**
 * What the last probe of this host found (`DenoRunner`'s bubblewrap, cgroup
 * and setpriv checks), kept in the cache directory so that `nano-modal run`'s
 * spare sandbox can start on it at once: the probe runs programs (bubblewrap
 * starting Deno, setpriv), ~35 ms at every run's start, before the spare could
 * spawn. The probe still runs meanwhile; a spare started on an answer it does
 * not confirm is never adopted. Keyed by the Deno binary (path, size, mtime)
 * and the user: another binary or user probes afresh.
 */
import type { HostSupport } from "./_deno_spawn.ts";
import { deniedNet } from "./_sandbox_net.ts";
import { realPath } from "./_subprocess.ts";
import { writeAtomically } from "../proto/write_atomically.ts";

/** What is kept: the probe's answers (the host's own addresses are read afresh). */
type Kept = Omit<HostSupport, "denied">;

async function key(denoPath: string): Promise<string | undefined> {
  try {
    const path = await realPath(denoPath);
    const info = await Deno.stat(path);
    return JSON.stringify([path, info.size, info.mtime?.getTime(), Deno.uid()]);
  } catch {
    return undefined;
  }
}

const file = (cacheDir: string) => `${cacheDir}/deno-host.json`;

/** The kept answers for `denoPath` on this host, if a probe of the same binary left them. */
export async function keptHost(
  cacheDir: string,
  denoPath: string,
): Promise<HostSupport | undefined> {
  try {
    const [k, text] = await Promise.all([key(denoPath), Deno.readTextFile(file(cacheDir))]);
    const kept = JSON.parse(text) as { key: string; host: Kept };
    if (!k || kept.key !== k) return undefined;
    return { ...kept.host, denied: deniedNet() };
  } catch {
    return undefined;
  }
}

/** Keeps a probe's answers for `denoPath`. */
export async function keepHost(cacheDir: string, denoPath: string, host: HostSupport) {
  const k = await key(denoPath);
  if (!k) return;
  const { denied: _, ...answers } = host;
  await writeAtomically(file(cacheDir), JSON.stringify({ key: k, host: answers }))
    .catch(() => {}); // a cache we cannot write only means probing next time
}

/** Whether two answers are the same (a spare started on one may serve the other). */
export function sameHost(a: HostSupport, b: HostSupport): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
