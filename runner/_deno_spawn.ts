/**
 * Spawning one deno sandbox process (see `deno_runner.ts` for what it is
 * allowed): the `deno run` permissions, bubblewrap or setpriv around it, the
 * memory cgroup, its output, and how its end is reported. Used for a
 * function's sandbox, and for a spare one started before any function is
 * known (`_spare.ts`), whose bundle arrives later in its socket directory.
 */
import type { SandboxExit } from "./runner.ts";
import { pipeLines } from "./_lines.ts";
import { type BindMount, bwrapArgs, type BwrapSupport, INSIDE } from "./_bwrap.ts";
import { createCgroup, type SandboxCgroup } from "./_cgroup.ts";

/** Longest wait for a sandbox's output pipes to close once its process has exited. */
const PIPES_AFTER_EXIT_MS = 2_000;

/** Resolves when `p` settles or after `ms`, whichever comes first. */
async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise((r) => timer = setTimeout(r, ms))]);
  clearTimeout(timer);
}
import { realPath, signalName } from "./_subprocess.ts";
import { SDK_FILE } from "../proto/bundle_format.ts";

/** What the host offers, learnt once per runner. */
export interface HostSupport {
  bwrap: BwrapSupport | null;
  cgroupParent: { dir: string; v2: boolean } | null;
  /** `setpriv --pdeathsig` exists: without bubblewrap, sandboxes still die with their worker. */
  setpriv: boolean;
  denied: string[];
}

/** One sandbox process to spawn. */
export interface SpawnRequest {
  /** Names its cgroup. */
  sandboxId: string;
  /** Host directory of its socket `sock` (and, without bubblewrap, its temp dir). */
  socketDir: string;
  entrypointPath: string;
  /** Host path of the bundle; undefined: it will be `socketDir/bundle.js`. */
  bundlePath?: string;
  memoryMib: number;
  blockNetwork: boolean;
  mounts: BindMount[];
  env: Record<string, string>;
  /** Entrypoint arguments after the socket and the bundle URL. */
  entryArgs: string[];
  stdin: "null" | "piped";
  onOutput(fd: 1 | 2, text: string): void;
  /** Remove `socketDir` when it ends (a spare's own directory). */
  removeDir?: boolean;
}

/** The deno binary and the compile cache sandboxes use outside bubblewrap. */
export interface DenoBinary {
  denoPath: string;
  denoDir: string;
}

const OOM = /out of memory|heap limit|Allocation failed/i;
// V8 prints a GC report and a C stack before dying of OOM: noise for the caller.
const FATAL = /<--- Last few GCs --->|Fatal JavaScript|Fatal process out of memory/;

/** A spawned sandbox process. */
export interface Spawned {
  child: Deno.ChildProcess;
  exited: Promise<SandboxExit>;
  kill(): Promise<void>;
}

/** Spawns the sandbox process `req` describes. */
export async function spawnSandbox(
  host: HostSupport,
  bin: DenoBinary,
  req: SpawnRequest,
): Promise<Spawned> {
  const memoryMib = Math.max(16, req.memoryMib);
  const inBwrap = !!host.bwrap;
  const hostTmp = `${req.socketDir}/tmp`;
  if (!inBwrap) await Deno.mkdir(hostTmp, { recursive: true });
  const later = req.bundlePath === undefined;
  const paths = inBwrap
    ? {
      entrypoint: INSIDE.entrypoint,
      bundle: later ? `${INSIDE.socketDir}/bundle.js` : INSIDE.bundle,
      socket: `${INSIDE.socketDir}/sock`,
      tmp: hostTmp,
      denoDir: `${hostTmp}/.deno`,
      deno: INSIDE.deno,
    }
    : {
      entrypoint: req.entrypointPath,
      bundle: req.bundlePath ?? `${req.socketDir}/bundle.js`,
      socket: `${req.socketDir}/sock`,
      tmp: hostTmp,
      denoDir: bin.denoDir,
      deno: bin.denoPath,
    };
  // Volumes appear at their paths only inside the namespace (see SandboxSpec.mounts).
  const mounts = inBwrap ? req.mounts : [];
  const readable = [paths.bundle, paths.entrypoint, paths.socket, paths.tmp];
  // A spare may load the SDK's part of its bundle ahead, from beside it (proto/bundle_format.ts).
  if (later) readable.push(`${paths.bundle.slice(0, paths.bundle.lastIndexOf("/"))}/${SDK_FILE}`);
  const writable = [paths.socket, paths.tmp];
  // Inside bubblewrap /tmp is the sandbox's own tmpfs (see _bwrap.ts); outside it is the host's.
  if (inBwrap) readable.push("/tmp"), writable.push("/tmp");
  for (const m of mounts) {
    readable.push(m.target);
    if (!m.readOnly) writable.push(m.target);
  }
  const denoArgs = [
    "run",
    "--no-prompt",
    "--no-config",
    "--no-lock",
    `--allow-read=${readable.join(",")}`,
    `--allow-write=${writable.join(",")}`,
    "--allow-env",
    "--allow-sys=hostname,osRelease,cpus,loadavg,networkInterfaces,systemMemoryInfo",
    `--v8-flags=--max-old-space-size=${memoryMib}`,
  ];
  // The worker's unix socket is the one "network" a blocked sandbox may use.
  if (req.blockNetwork) denoArgs.push(`--allow-net=unix:${paths.socket}`);
  else denoArgs.push("--allow-net", `--deny-net=${host.denied.join(",")}`);
  denoArgs.push(paths.entrypoint, paths.socket, `file://${paths.bundle}`, ...req.entryArgs);

  let command: string[];
  if (host.bwrap) {
    const wrap = await bwrapArgs(host.bwrap, {
      denoPath: await realPath(bin.denoPath),
      entrypointPath: req.entrypointPath,
      bundlePath: req.bundlePath,
      socketDir: req.socketDir,
      tmpDir: hostTmp,
      tmpMib: memoryMib,
      blockNetwork: req.blockNetwork,
      mounts,
    });
    command = [host.bwrap.path, ...wrap, paths.deno, ...denoArgs];
  } else if (host.setpriv) {
    command = ["setpriv", "--pdeathsig", "SIGKILL", "--", paths.deno, ...denoArgs];
  } else {
    command = [paths.deno, ...denoArgs];
  }
  let cgroup: SandboxCgroup | null = null;
  if (host.cgroupParent) {
    cgroup = await createCgroup(host.cgroupParent, req.sandboxId, memoryMib);
    // The shell joins the cgroup before it becomes the sandbox, so no process escapes it.
    if (cgroup) {
      command = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', cgroup.procsFile, ...command];
    }
  }
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    clearEnv: true,
    env: {
      DENO_DIR: paths.denoDir,
      TMPDIR: paths.tmp,
      HOME: paths.tmp,
      NO_COLOR: "1",
      ...req.env,
    },
    cwd: inBwrap ? "/" : hostTmp,
    stdin: req.stdin,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderrTail = "";
  let dying = false;
  let killed = false;
  const out = pipeLines(child.stdout, (text) => req.onOutput(1, text));
  const err = pipeLines(child.stderr, (text) => {
    stderrTail = (stderrTail + text).slice(-4096);
    if (FATAL.test(text) || OOM.test(text)) dying = true;
    if (!dying) req.onOutput(2, text);
  });
  const exited = (async (): Promise<SandboxExit> => {
    const status = await child.status;
    const cgroupOom = !killed && (await cgroup?.oomKilled() ?? false);
    // What is left of the sandbox goes before its output is awaited: a child bubblewrap that a
    // kill orphaned during its setup held the pipes open, and this wait with them, for good.
    await cgroup?.remove();
    await settleWithin(Promise.allSettled([out, err]), PIPES_AFTER_EXIT_MS);
    const oom = OOM.test(stderrTail) || cgroupOom;
    if (req.removeDir) await Deno.remove(req.socketDir, { recursive: true }).catch(() => {});
    else if (!inBwrap) await Deno.remove(hostTmp, { recursive: true }).catch(() => {});
    // bwrap reports a sandbox killed by a signal as exit code 128 + signal.
    const signal = status.signal ??
      (inBwrap && status.code > 128 ? signalName(status.code) : null);
    return { code: signal ? null : status.code, signal, oom };
  })();
  return {
    child,
    exited,
    async kill() {
      killed = true;
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await exited;
    },
  };
}
