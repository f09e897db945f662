/**
 * A spare deno sandbox: started before any function is known (by
 * `nano-modal run`, at its first moment), so that bubblewrap, Deno's own
 * start and the entrypoint's loading happen while the CLI loads and bundles
 * the app, not after. It is the same process a function's sandbox would be —
 * the same permissions, namespace, cgroup and limits — except that it waits,
 * with nothing of any app, until {@linkcode SpareSandbox.adopt} gives it one
 * sandbox's bundle and socket (hard links in its own directory) and the app's
 * name. It serves at most one sandbox, and only one whose start would have
 * been identical: the default memory, network allowed, no volumes and no
 * environment of its own (secrets and image variables are set at a process's
 * start); any other function starts its own sandbox as before.
 */
import type { Sandbox, SandboxSpec } from "./runner.ts";
import { type DenoBinary, type HostSupport, type Spawned, spawnSandbox } from "./_deno_spawn.ts";
import { imageEnv } from "./image_spec.ts";
import { SDK_FILE } from "../proto/bundle_format.ts";
import type { ReadBundle } from "./_spare_sdk.ts";

let count = 0;

/**
 * Where a spare's output goes: kept until adoption (Deno's own warnings, if any), at most
 * {@linkcode MAX_EARLY_OUTPUT} characters, then the adopter's.
 */
export class SpareOutput {
  #early: [1 | 2, string][] = [];
  #earlyChars = 0;
  #sink?: (fd: 1 | 2, text: string) => void;

  /** Takes one chunk the spare wrote. */
  readonly write = (fd: 1 | 2, text: string): void => {
    if (this.#sink) return this.#sink(fd, text);
    const room = MAX_EARLY_OUTPUT - this.#earlyChars;
    if (room <= 0) return;
    const kept = text.length > room ? text.slice(0, room) : text;
    this.#early.push([fd, kept]);
    this.#earlyChars += kept.length;
  };

  /** From now on output goes to `sink`, starting with what was kept. */
  adopt(sink: (fd: 1 | 2, text: string) => void): void {
    this.#sink = sink;
    for (const [fd, text] of this.#early.splice(0)) sink(fd, text);
  }
}

/** An SDK a spare loads before it knows its app: the part bundles begin with, and its module. */
export interface SpareSdk {
  part: string;
  module: string;
}

/**
 * Most output kept from before a spare has its app: what it runs then (our entrypoint, an SDK
 * learned from a user's bundle) has no reason to print, and must not fill the worker's memory.
 */
const MAX_EARLY_OUTPUT = 64 * 1024;

/** A sandbox process waiting for its app. */
export class SpareSandbox {
  readonly #spawned: Spawned;
  readonly #dir: string;
  readonly #entrypointPath: string;
  readonly #memoryMib: number;
  readonly #output: SpareOutput;
  /** The SDK's part of a bundle it loaded ahead, if any: it serves only bundles that begin so. */
  readonly #sdkPart?: string;
  #ended = false;

  private constructor(
    spawned: Spawned,
    output: SpareOutput,
    at: { dir: string; entrypointPath: string; memoryMib: number; sdk?: SpareSdk },
  ) {
    this.#spawned = spawned;
    this.#output = output;
    this.#dir = at.dir;
    this.#entrypointPath = at.entrypointPath;
    this.#memoryMib = at.memoryMib;
    this.#sdkPart = at.sdk?.part;
    spawned.exited.finally(() => this.#ended = true);
  }

  /** Starts a spare under `rootDir` (a worker's sandbox directory). */
  static async start(
    host: HostSupport,
    bin: DenoBinary,
    options: { rootDir: string; entrypointPath: string; memoryMib: number; sdk?: SpareSdk },
  ): Promise<SpareSandbox> {
    // Named like a worker's sandboxes (`_reap.ts` finds it if this process dies).
    const dir = `${options.rootDir}/nm-spare-x-${Deno.pid}-${++count}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
    if (options.sdk) await Deno.writeTextFile(`${dir}/${SDK_FILE}`, options.sdk.module);
    const output = new SpareOutput();
    const spawned = await spawnSandbox(host, bin, {
      sandboxId: dir.slice(dir.lastIndexOf("/") + 1),
      socketDir: dir,
      entrypointPath: options.entrypointPath,
      memoryMib: options.memoryMib,
      blockNetwork: false,
      mounts: [],
      env: {},
      entryArgs: ["", "--spare", ...(options.sdk ? ["--sdk"] : [])],
      stdin: "piped",
      removeDir: true,
      onOutput: output.write,
    });
    return new SpareSandbox(spawned, output, { dir, ...options });
  }

  /** Whether its process still runs. */
  get alive(): boolean {
    return !this.#ended;
  }

  /** Whether the sandbox `spec` asks for would start exactly as this one did. */
  fits(spec: SandboxSpec): boolean {
    return !this.#ended && spec.entrypointPath === this.#entrypointPath &&
      Math.max(16, spec.def.memoryMib) === Math.max(16, this.#memoryMib) &&
      !spec.def.blockNetwork && !(spec.mounts?.length) &&
      Object.keys(imageEnv(spec.def)).length === 0 && Object.keys(spec.env ?? {}).length === 0;
  }

  /** The SDK part it loaded ahead, if any. */
  get sdkPart(): string | undefined {
    return this.#sdkPart;
  }

  /** Whether it may serve `bundle`: any, unless it loaded an SDK ahead (then only one beginning so). */
  takes(bundle: ReadBundle | undefined): boolean {
    return this.#sdkPart === undefined || bundle?.parts?.sdkPart === this.#sdkPart;
  }

  /**
   * Makes this process the sandbox `spec` describes; rejects if it cannot (then kill it). One
   * that loaded an SDK ahead takes only a bundle that begins with that very SDK (so nothing ran
   * in it that the app's own bundle would not have run first), and then gets the app's part
   * (`bundle`: the runner's read of it).
   */
  async adopt(spec: SandboxSpec, bundle?: Promise<ReadBundle | undefined>): Promise<Sandbox> {
    if (this.#sdkPart !== undefined) {
      const parts = (await bundle)?.parts;
      if (parts?.sdkPart !== this.#sdkPart) throw new Error("the spare loaded another SDK");
      await Deno.writeTextFile(`${this.#dir}/bundle.js`, parts.app);
    } else {
      try {
        await Deno.link(spec.bundlePath, `${this.#dir}/bundle.js`);
      } catch {
        await Deno.copyFile(spec.bundlePath, `${this.#dir}/bundle.js`);
      }
    }
    // The worker listens in its own directory for this sandbox; the spare connects in its own.
    await Deno.link(`${spec.socketDir}/sock`, `${this.#dir}/sock`);
    this.#output.adopt((fd, text) => spec.onOutput(fd, text));
    const writer = this.#spawned.child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(`${JSON.stringify({ appName: spec.appName })}\n`));
    await writer.close();
    const spawned = this.#spawned;
    return { id: spec.sandboxId, exited: spawned.exited, kill: () => spawned.kill() };
  }

  /** Stops it (unused, or it could not be adopted). */
  async kill(): Promise<void> {
    // Its stdin closing ends it too: a SIGKILL that reaches bubblewrap before bubblewrap has
    // tied its child's life to its own would leave that child waiting for an app forever.
    await this.#spawned.child.stdin.close().catch(() => {});
    await this.#spawned.kill();
  }
}
