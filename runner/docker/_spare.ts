/**
 * A spare container: created and started from the default image before any
 * function is known (by a long-running worker, and by `nano-modal run` at its
 * first moment), so that a new app's first sandbox skips the container's
 * create and start and Deno's own start (~0.3 s here). It is the container a
 * function's sandbox would be — the same hardening, limits and network —
 * except that its bundle is not mounted: it waits, with nothing of any app,
 * until {@linkcode SpareContainer.adopt} puts one sandbox's bundle and socket
 * in its directory (hard links) and names the app there
 * (`SPARE_ASSIGN_FILE`). It serves at most one sandbox, and only one whose
 * start would have been identical: the same image, the default memory and
 * CPU, network allowed, no volumes and no environment of its own (secrets and
 * image variables are set at a container's start).
 * @module
 */
import type { Dockerode } from "./_docker.ts";
import { type Container, containerConfig, containerName, startContainer } from "./_container.ts";
import { SpareOutput } from "../_spare.ts";
import { SPARE_ASSIGN_FILE } from "../_protocol.ts";
import { imageEnv } from "../image_spec.ts";
import { DEFAULT_MEMORY_MIB, type Sandbox, type SandboxSpec } from "../runner.ts";
import { writeAtomically } from "../../proto/write_atomically.ts";

let count = 0;

/** The CPU share a spare starts with: the SDK's default `cpu`. */
const SPARE_CPU = 1;

/** How a spare container starts. */
export interface SpareContainerOptions {
  /** The image's tag (the default image's). */
  image: string;
  /** Where its directory goes (a worker's sandbox directory). */
  rootDir: string;
  entrypointPath: string;
  memoryMib: number;
  labels: Record<string, string>;
}

/** A container waiting for its app. */
export class SpareContainer {
  readonly #sandbox: Container;
  readonly #dir: string;
  readonly #options: SpareContainerOptions;
  readonly #output: SpareOutput;
  #ended = false;
  #taken = false;

  private constructor(
    sandbox: Container,
    dir: string,
    options: SpareContainerOptions,
    output: SpareOutput,
  ) {
    this.#sandbox = sandbox;
    this.#dir = dir;
    this.#options = options;
    this.#output = output;
    sandbox.exited.finally(() => this.#ended = true);
  }

  /** Creates and starts a spare container. */
  static async start(docker: Dockerode, options: SpareContainerOptions): Promise<SpareContainer> {
    // Named like a worker's sandboxes: a worker started after this one died removes it.
    const dir = `${options.rootDir}/nm-spare-c-${Deno.pid}-${++count}`;
    await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
    const output = new SpareOutput();
    const spec: SandboxSpec = {
      sandboxId: dir.slice(dir.lastIndexOf("/") + 1),
      appId: "",
      appName: "",
      functionName: "",
      def: { name: "", memoryMib: options.memoryMib, cpu: SPARE_CPU, blockNetwork: false },
      bundlePath: "",
      entrypointPath: options.entrypointPath,
      socketDir: dir,
      onOutput: output.write,
    };
    try {
      const config = containerConfig(spec, options.image, options.labels, true);
      const sandbox = await startContainer(docker, spec, config);
      sandbox.exited.finally(() => Deno.remove(dir, { recursive: true }).catch(() => {}));
      return new SpareContainer(sandbox, dir, options, output);
    } catch (err) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw err;
    }
  }

  /** Whether its container still runs, untaken. */
  get alive(): boolean {
    return !this.#ended && !this.#taken;
  }

  /**
   * Whether a spare could be the sandbox `spec` asks for, on what the spec alone says: the
   * CPU share and memory spares start with (`memoryMib`), network allowed, no volumes, no
   * environment of its own.
   */
  static mayFit(spec: SandboxSpec, memoryMib = DEFAULT_MEMORY_MIB): boolean {
    const def = spec.def;
    return def.cpu === SPARE_CPU && !def.blockNetwork && !(spec.mounts?.length) &&
      Math.max(16, def.memoryMib) === Math.max(16, memoryMib) &&
      Object.keys(imageEnv(def)).length === 0 && Object.keys(spec.env ?? {}).length === 0;
  }

  /** Whether the sandbox `spec` asks for, of image `image`, would start exactly as this one did. */
  fits(spec: SandboxSpec, image: string): boolean {
    return this.alive && SpareContainer.mayFit(spec, this.#options.memoryMib) &&
      image === this.#options.image && spec.entrypointPath === this.#options.entrypointPath;
  }

  /** Makes this container the sandbox `spec` describes; rejects if it cannot (then kill it). */
  async adopt(spec: SandboxSpec): Promise<Sandbox> {
    this.#taken = true;
    const bundle = `${this.#dir}/bundle.js`;
    await Promise.all([
      Deno.link(spec.bundlePath, bundle).catch(() => Deno.copyFile(spec.bundlePath, bundle)),
      // The worker listens in its own directory for this sandbox; the spare connects in its own.
      Deno.link(`${spec.socketDir}/sock`, `${this.#dir}/sock`),
      // Named as the sandbox's own container would be (its labels stay a spare's).
      this.#sandbox.rename(containerName(spec.sandboxId)),
    ]);
    this.#output.adopt((fd, text) => spec.onOutput(fd, text));
    // Last: once its app is named, the entrypoint imports the bundle and connects.
    await writeAtomically(
      `${this.#dir}/${SPARE_ASSIGN_FILE}`,
      JSON.stringify({ appName: spec.appName }),
    );
    const sandbox = this.#sandbox;
    return { id: spec.sandboxId, exited: sandbox.exited, kill: () => sandbox.kill() };
  }

  /** Stops and removes it. */
  async kill(): Promise<void> {
    await this.#sandbox.kill();
  }
}
