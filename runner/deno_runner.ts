/**
 * The `deno` runner: each sandbox is a `deno run` subprocess with a clean
 * environment and Deno permissions limited to what the function needs: read
 * its bundle, use its socket and a private temp dir, and the public network
 * (never the host's loopback, its own addresses or private ranges) unless
 * `blockNetwork`; never run subprocesses, FFI, or the worker's environment.
 *
 * Where bubblewrap works (see `_bwrap.ts`) the subprocess also gets its own
 * mount, PID and (with `blockNetwork`) network namespace and a size-capped
 * tmpfs; where a memory cgroup can be made (see `_cgroup.ts`) `memoryMiB`
 * bounds the whole sandbox. Either way it dies with its worker.
 * @module
 */
import { denoPath } from "../proto/deno_path.ts";
import type { FunctionSpec, Runner, Sandbox, SandboxExit, SandboxSpec } from "./runner.ts";
import { pipeLines } from "./_lines.ts";
import { bwrapArgs, type BwrapSupport, INSIDE, probeBwrap } from "./_bwrap.ts";
import { createCgroup, memoryCgroupParent, reapCgroups, type SandboxCgroup } from "./_cgroup.ts";
import { deniedNet } from "./_sandbox_net.ts";
import { reapOrphans } from "./_reap.ts";
import { CapacityError } from "./errors.ts";
import { hasSetpriv, realPath, signalName } from "./_subprocess.ts";
import { imageEnv, unhonouredImage } from "./image_spec.ts";

/** Options for {@linkcode DenoRunner}. */
export interface DenoRunnerOptions {
  /** The deno binary. @default the running deno, or NANO_MODAL_DENO (see proto/deno_path.ts) */
  denoPath?: string;
  /** Where sandboxes cache compiled code (without bubblewrap; inside it, their own temp dir). */
  denoDir: string;
  /** Use bubblewrap where it works. @default true */
  bubblewrap?: boolean;
  /** Where the runner reports its own state (once). @default console.error */
  log?: (line: string) => void;
}

const OOM = /out of memory|heap limit|Allocation failed/i;
// V8 prints a GC report and a C stack before dying of OOM: noise for the caller.
const FATAL = /<--- Last few GCs --->|Fatal JavaScript|Fatal process out of memory/;
/** How often sandboxes left by dead workers are looked for. */
const REAP_EVERY_MS = 30_000;

/** What the host offers, learnt once per runner. */
interface HostSupport {
  bwrap: BwrapSupport | null;
  cgroupParent: { dir: string; v2: boolean } | null;
  /** `setpriv --pdeathsig` exists: without bubblewrap, sandboxes still die with their worker. */
  setpriv: boolean;
  denied: string[];
}

/**
 * Runs sandboxes as Deno subprocesses.
 *
 * @example
 * ```ts ignore
 * import { DenoRunner } from "./deno_runner.ts";
 * const runner = new DenoRunner({ denoDir: "/tmp/nano-modal/deno" });
 * ```
 */
export class DenoRunner implements Runner {
  /** Always `"deno"`. */
  readonly name = "deno";
  #denoPath: string;
  #denoDir: string;
  #options: DenoRunnerOptions;
  #support?: Promise<HostSupport>;
  #reaper?: ReturnType<typeof setInterval>;
  /** Directories this runner's sandboxes live in (where dead workers' orphans may be). */
  readonly #roots = new Set<string>();

  /** A runner whose sandboxes cache compiled code in `options.denoDir`. */
  constructor(options: DenoRunnerOptions) {
    this.#options = options;
    this.#denoPath = options.denoPath ?? denoPath();
    this.#denoDir = options.denoDir;
  }

  /**
   * The subprocess sandbox runs the bundle with this host's Deno: of an image
   * it honours only `Image.deno()`, `.env()` and `.npmInstall()` (Deno fetches
   * npm packages itself), and volumes only inside bubblewrap. Anything else
   * is refused with one line naming the option, never ignored.
   */
  async prepare(def: FunctionSpec): Promise<void> {
    const refused = unhonouredImage(def);
    if (refused) {
      throw new CapacityError(
        `${def.name} uses ${refused}, which the deno runner cannot honour: run it on a worker with --runner docker`,
      );
    }
    if (def.volumes?.length && !(await this.#host()).bwrap) {
      throw new CapacityError(
        `${def.name} mounts volumes, which the deno runner gives only inside bubblewrap: install bubblewrap, or use --runner docker`,
      );
    }
  }

  /** What isolation this host gives sandboxes (for tests and `status`). */
  async isolation(): Promise<{ bubblewrap: boolean; userNamespace: boolean; cgroup: boolean }> {
    const s = await this.#host();
    return { bubblewrap: !!s.bwrap, userNamespace: !!s.bwrap?.userns, cgroup: !!s.cgroupParent };
  }

  #host(): Promise<HostSupport> {
    return this.#support ??= (async () => {
      const [bwrap, cgroupParent, setpriv] = await Promise.all([
        this.#options.bubblewrap === false ? null : probeBwrap(await realPath(this.#denoPath)),
        memoryCgroupParent(),
        hasSetpriv(),
      ]);
      const log = this.#options.log ?? ((line: string) => console.error(line));
      if (!bwrap) {
        log(
          "nano-modal: bubblewrap (bwrap) is not usable here: deno sandboxes run without their own mount and PID namespaces (Deno permissions still deny loopback, private ranges and the host's files); install bubblewrap for stronger isolation",
        );
      }
      return { bwrap, cgroupParent, setpriv, denied: deniedNet() };
    })();
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const host = await this.#host();
    this.#roots.add(spec.socketDir.slice(0, spec.socketDir.lastIndexOf("/")));
    const def = spec.def;
    const memoryMib = Math.max(16, def.memoryMib);
    const inBwrap = !!host.bwrap;
    const hostTmp = `${spec.socketDir}/tmp`;
    if (!inBwrap) await Deno.mkdir(hostTmp, { recursive: true });
    const paths = inBwrap
      ? {
        entrypoint: INSIDE.entrypoint,
        bundle: INSIDE.bundle,
        socket: `${INSIDE.socketDir}/sock`,
        tmp: hostTmp,
        denoDir: `${hostTmp}/.deno`,
        deno: INSIDE.deno,
      }
      : {
        entrypoint: spec.entrypointPath,
        bundle: spec.bundlePath,
        socket: `${spec.socketDir}/sock`,
        tmp: hostTmp,
        denoDir: this.#denoDir,
        deno: this.#denoPath,
      };
    // Volumes appear at their paths only inside the namespace (see SandboxSpec.mounts).
    const mounts = inBwrap ? spec.mounts ?? [] : [];
    const readable = [paths.bundle, paths.entrypoint, paths.socket, paths.tmp];
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
    if (def.blockNetwork) denoArgs.push(`--allow-net=unix:${paths.socket}`);
    else denoArgs.push("--allow-net", `--deny-net=${host.denied.join(",")}`);
    denoArgs.push(paths.entrypoint, paths.socket, `file://${paths.bundle}`, spec.appName);

    let command: string[];
    if (host.bwrap) {
      const wrap = await bwrapArgs(host.bwrap, {
        denoPath: await realPath(this.#denoPath),
        entrypointPath: spec.entrypointPath,
        bundlePath: spec.bundlePath,
        socketDir: spec.socketDir,
        tmpDir: hostTmp,
        tmpMib: memoryMib,
        blockNetwork: def.blockNetwork,
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
      cgroup = await createCgroup(host.cgroupParent, spec.sandboxId, memoryMib);
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
        ...imageEnv(def),
        ...spec.env,
      },
      cwd: inBwrap ? "/" : hostTmp,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let stderrTail = "";
    let dying = false;
    let killed = false;
    const out = pipeLines(child.stdout, (text) => spec.onOutput(1, text));
    const err = pipeLines(child.stderr, (text) => {
      stderrTail = (stderrTail + text).slice(-4096);
      if (FATAL.test(text) || OOM.test(text)) dying = true;
      if (!dying) spec.onOutput(2, text);
    });
    const exited = (async (): Promise<SandboxExit> => {
      const status = await child.status;
      await Promise.allSettled([out, err]);
      const oom = OOM.test(stderrTail) || (!killed && (await cgroup?.oomKilled() ?? false));
      await cgroup?.remove();
      if (!inBwrap) await Deno.remove(hostTmp, { recursive: true }).catch(() => {});
      // bwrap reports a sandbox killed by a signal as exit code 128 + signal.
      const signal = status.signal ??
        (inBwrap && status.code > 128 ? signalName(status.code) : null);
      return { code: signal ? null : status.code, signal, oom };
    })();
    return {
      id: spec.sandboxId,
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

  /**
   * Kills sandboxes and removes cgroups that workers which died left behind
   * (in the directories this runner's sandboxes use; the worker reaps its
   * own directory at start), then keeps doing so every {@linkcode REAP_EVERY_MS}.
   */
  async cleanup(): Promise<void> {
    await this.#reap();
    if (!this.#reaper) {
      this.#reaper = setInterval(() => this.#reap().catch(() => {}), REAP_EVERY_MS);
      Deno.unrefTimer(this.#reaper);
    }
  }

  async #reap(): Promise<void> {
    const host = await this.#host();
    for (const root of this.#roots) await reapOrphans(root);
    if (host.cgroupParent) await reapCgroups(host.cgroupParent.dir);
  }
}
