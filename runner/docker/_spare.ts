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
import {
  adoptStartedContainer,
  type Container,
  containerConfig,
  containerName,
  startContainer,
} from "./_container.ts";
import { type EarlySpare, earlySpec, sameRecipe, SPARE_CPU } from "./early_spare.ts";
import { SpareOutput } from "../_spare.ts";
import { SPARE_ASSIGN_FILE } from "../_protocol.ts";
import { imageEnv } from "../image_spec.ts";
import { DEFAULT_MEMORY_MIB, type Sandbox, type SandboxSpec } from "../runner.ts";
import { writeAtomically } from "../../proto/write_atomically.ts";
import { trace } from "../../proto/trace.ts";

let count = 0;

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
    const spec = { ...earlySpec(dir, options), onOutput: output.write };
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

  /**
   * The container `nano-modal run` started before this runner loaded (`early_spare.ts`) as a
   * spare, if it is the one {@linkcode SpareContainer.start} would start now; else removes it.
   * Undefined if it is not to be had (taken already, gone, or not the same).
   */
  static async fromEarly(
    docker: Dockerode,
    early: EarlySpare,
    options: SpareContainerOptions,
  ): Promise<SpareContainer | undefined> {
    if (!early.claim()) return undefined;
    const dir = early.dir;
    const removeDir = () => Deno.remove(dir, { recursive: true }).catch(() => {});
    if (!sameRecipe(early.recipe, options) || !dir.startsWith(`${options.rootDir}/`)) {
      await docker.getContainer(early.id).remove({ force: true }).catch(() => {});
      await removeDir();
      return undefined;
    }
    const output = new SpareOutput();
    const spec = { ...earlySpec(dir, early.recipe), onOutput: output.write };
    try {
      const sandbox = await adoptStartedContainer(docker, early.id, spec, early.since);
      sandbox.exited.finally(removeDir);
      trace("early spare taken");
      return new SpareContainer(sandbox, dir, options, output);
    } catch {
      await removeDir();
      return undefined;
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
