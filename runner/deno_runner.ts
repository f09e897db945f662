/**
 * The `deno` runner: each sandbox is a `deno run` subprocess with a clean
 * environment and Deno permissions limited to what the function needs: read
 * its bundle, use its socket and a private temp dir, the network unless
 * `blockNetwork`; never run subprocesses, FFI, or the worker's environment.
 * @module
 */
import { denoPath } from "../proto/deno_path.ts";
import type { FunctionSpec, Runner, Sandbox, SandboxExit, SandboxSpec } from "./runner.ts";
import { pipeLines } from "./_lines.ts";

/** Options for {@linkcode DenoRunner}. */
export interface DenoRunnerOptions {
  /** The deno binary. @default the running deno, or NANO_MODAL_DENO (see proto/deno_path.ts) */
  denoPath?: string;
  /** Where sandboxes cache compiled code. */
  denoDir: string;
}

const OOM = /out of memory|heap limit|Allocation failed/i;
// V8 prints a GC report and a C stack before dying of OOM: noise for the caller.
const FATAL = /<--- Last few GCs --->|Fatal JavaScript|Fatal process out of memory/;

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

  /** A runner whose sandboxes cache compiled code in `options.denoDir`. */
  constructor(options: DenoRunnerOptions) {
    this.#denoPath = options.denoPath ?? denoPath();
    this.#denoDir = options.denoDir;
  }

  prepare(_def: FunctionSpec): Promise<void> {
    // Images describe containers; the subprocess sandbox runs the bundle as is.
    return Promise.resolve();
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const tmp = `${spec.socketDir}/tmp`;
    await Deno.mkdir(tmp, { recursive: true });
    const socket = `${spec.socketDir}/sock`;
    const def = spec.def;
    const args = [
      "run",
      "--no-prompt",
      "--no-config",
      "--no-lock",
      `--allow-read=${spec.bundlePath},${spec.entrypointPath},${socket},${tmp}`,
      `--allow-write=${socket},${tmp}`,
      "--allow-env",
      "--allow-sys=hostname,osRelease,cpus,loadavg,networkInterfaces,systemMemoryInfo",
      `--v8-flags=--max-old-space-size=${Math.max(16, def.memoryMib)}`,
    ];
    // The worker's unix socket is the one "network" a blocked sandbox may use.
    args.push(def.blockNetwork ? `--allow-net=unix:${socket}` : "--allow-net");
    args.push(spec.entrypointPath, socket, `file://${spec.bundlePath}`, spec.appName);
    const child = new Deno.Command(this.#denoPath, {
      args,
      clearEnv: true,
      env: { DENO_DIR: this.#denoDir, TMPDIR: tmp, HOME: tmp, NO_COLOR: "1", ...imageEnv(def) },
      cwd: tmp,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let stderrTail = "";
    let dying = false;
    const out = pipeLines(child.stdout, (text) => spec.onOutput(1, text));
    const err = pipeLines(child.stderr, (text) => {
      stderrTail = (stderrTail + text).slice(-4096);
      if (FATAL.test(text) || OOM.test(text)) dying = true;
      if (!dying) spec.onOutput(2, text);
    });
    const exited = (async (): Promise<SandboxExit> => {
      const status = await child.status;
      await Promise.allSettled([out, err]);
      return {
        code: status.signal ? null : status.code,
        signal: status.signal,
        oom: OOM.test(stderrTail),
      };
    })();
    return {
      id: spec.sandboxId,
      exited,
      async kill() {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
        await exited;
      },
    };
  }

  cleanup(): Promise<void> {
    // Subprocesses die with their worker; nothing outlives it.
    return Promise.resolve();
  }
}

/** Environment variables declared by the function's image (`Image.env`). */
export function imageEnv(def: FunctionSpec): Record<string, string> {
  const env: Record<string, string> = {};
  try {
    for (const layer of JSON.parse(def.imageJson || "{}").layers ?? []) {
      if (layer.kind === "env") Object.assign(env, layer.vars);
    }
  } catch {
    // Validated by the control plane; an unreadable image adds nothing.
  }
  return env;
}
