/**
 * The `docker` runner: each sandbox is a hardened container of the
 * function's image, built locally once per host. The worker reaches it only
 * through the mounted unix socket; the container needs no network of its own.
 * @module
 */
import { denoPath } from "../../proto/deno_path.ts";
import { connectDocker, type Dockerode, dockerSocketPath, isNotFound } from "./_docker.ts";
import { containerConfig, ensureNetwork, startContainer } from "./_container.ts";
import { ImageBuilder } from "./_image_builder.ts";
import { type ImageInfo, listImages, markImageUsed, pruneImages } from "./_image_gc.ts";
import {
  DEFAULT_MEMORY_MIB,
  type FunctionSpec,
  type PrepareOptions,
  type Runner,
  type Sandbox,
  type SandboxSpec,
  type SpareOptions,
} from "../runner.ts";
import { SpareContainer } from "./_spare.ts";
import { type EarlySpare, rememberSpare } from "./early_spare.ts";
import { ownerLabel, processAlive, WORKER_LABEL } from "./_owner_label.ts";
import { SpareSlot } from "../_spare_slot.ts";
import { entrypointFile } from "../_entrypoint_file.ts";

/** Options for {@linkcode DockerRunner}. */
export interface DockerRunnerOptions {
  /** Where build locks and scratch files live. */
  cacheDir: string;
  /** The daemon's unix socket. @default DOCKER_HOST (unix://) or /var/run/docker.sock */
  socketPath?: string;
  /** The Deno binary put into images. @default the running deno, or NANO_MODAL_DENO (see proto/deno_path.ts) */
  denoPath?: string;
  /** First part of every image tag, e.g. `nano-modal/img:<hash>`. @default "nano-modal" */
  imageRepository?: string;
  /** Let docker reuse cached build steps (off to time a true first build). @default true */
  buildCache?: boolean;
  /**
   * A spare container `nano-modal run` started before this runner loaded (`early_spare.ts`):
   * the first {@linkcode DockerRunner.prestart} takes it if it is the spare it would start.
   */
  earlySpare?: Promise<EarlySpare | undefined>;
}

export { WORKER_LABEL } from "./_owner_label.ts";

/**
 * Runs sandboxes as Docker containers.
 *
 * @example
 * ```ts ignore
 * import { DockerRunner } from "./docker_runner.ts";
 * const runner = new DockerRunner({ cacheDir: "/tmp/nano-modal" });
 * await runner.cleanup();
 * ```
 */
export class DockerRunner implements Runner {
  /** Always `"docker"`. */
  readonly name = "docker";
  readonly #options: DockerRunnerOptions;
  #earlySpare?: Promise<EarlySpare | undefined>;
  readonly #tags = new Map<string, string>();
  #docker?: Promise<Dockerode>;
  #builder?: Promise<ImageBuilder>;
  #owner?: Promise<string>;
  #network?: Promise<void>;
  #reaper?: ReturnType<typeof setInterval>;
  readonly #spare = new SpareSlot<SpareContainer>(
    (options) => this.prestart(options),
    (spare) => spare.kill(),
  );

  /** A runner on the daemon at `options.socketPath`; it connects on first use. */
  constructor(options: DockerRunnerOptions) {
    this.#options = options;
    this.#earlySpare = options.earlySpare;
  }

  /** Builds the function's image unless this host has it. */
  async prepare(def: FunctionSpec, options: PrepareOptions): Promise<void> {
    const builder = await this.#imageBuilder();
    this.#tags.set(imageKey(def), await builder.ensure(def.image, options));
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const docker = await this.#client();
    const labels = {
      [WORKER_LABEL]: await (this.#owner ??= ownerLabel()),
      "nano-modal.app": spec.appId,
      "nano-modal.function": spec.functionName,
    };
    const image = await this.#image(spec.def);
    markImageUsed(this.#options.cacheDir, image).catch(() => {});
    const adopted = await this.#adoptSpare(spec, image);
    if (adopted) return adopted;
    if (!spec.def.blockNetwork) await this.#ensureNetwork(docker);
    try {
      return await startContainer(docker, spec, containerConfig(spec, image, labels));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // The image was removed since we built it: build it again once.
      (await this.#imageBuilder()).forget(image);
      this.#tags.delete(imageKey(spec.def));
      const rebuilt = await this.#image(spec.def);
      return await startContainer(docker, spec, containerConfig(spec, rebuilt, labels));
    }
  }

  /** A spare container made into `spec`'s sandbox, if one is ready and fits. */
  async #adoptSpare(spec: SandboxSpec, image: string): Promise<Sandbox | undefined> {
    // One that cannot be it leaves the spare alone, without waiting for its start.
    if (!SpareContainer.mayFit(spec)) return undefined;
    const pending = this.#spare.take();
    const spare = await pending;
    if (!spare) {
      // None could start (the default image not built yet, a passing error): another may now.
      this.#spare.refillLater();
      return undefined;
    }
    if (spare.fits(spec, image)) {
      this.#spare.refillLater();
      const adopted = await spare.adopt(spec).catch(() => undefined);
      if (adopted) return adopted;
      await spare.kill();
    } else if (!spare.alive || !this.#spare.putBack(pending!)) {
      // Unfit with nothing keeping it (a kept one waits for a sandbox that fits).
      await spare.kill();
      this.#spare.refillLater();
    }
    return undefined;
  }

  #ensureNetwork(docker: Dockerode): Promise<void> {
    return this.#network ??= ensureNetwork(docker).catch((err) => {
      this.#network = undefined;
      throw err;
    });
  }

  /**
   * Starts a spare container now, of the default image with default limits,
   * for the first sandbox this runner starts if that one would start
   * identically (see `_spare.ts`): `nano-modal run` calls it at its first
   * moment, so that the container's start overlaps the CLI's. One at most.
   */
  prestart(options: SpareOptions): void {
    if (this.#spare.filled) return;
    // Only the first spare may be the early one; one unfit for it is removed.
    const pending = this.#earlySpare;
    this.#earlySpare = undefined;
    this.#spare.fill(
      (async () => {
        const docker = await this.#client();
        const [image, entrypointPath, owner, early] = await Promise.all([
          // Only where the default image is built already: building it here would take the
          // build's progress from the first function that needs it.
          this.#imageBuilder().then((builder) => builder.builtDenoBase()),
          entrypointFile(options.cacheDir),
          this.#owner ??= ownerLabel(),
          pending,
          this.#ensureNetwork(docker),
        ]);
        if (!image) return undefined;
        const spare = {
          image,
          rootDir: `${options.cacheDir}/sandboxes`,
          entrypointPath,
          memoryMib: options.memoryMib ?? DEFAULT_MEMORY_MIB,
          labels: { [WORKER_LABEL]: owner, "nano-modal.spare": "1" },
        };
        // What the next run's early spare starts as (unless it is written down so already).
        await rememberSpare(options.cacheDir, spare).catch(() => {});
        const started = early && await SpareContainer.fromEarly(docker, early, spare);
        return started ?? await SpareContainer.start(docker, spare);
      })().catch(() => undefined).finally(() => pending?.then((early) => early?.drop())),
    );
  }

  /**
   * Keeps a spare container ready from now on (a long-running worker's): one
   * starts now, and another a while after each is taken (`_spare_slot.ts`),
   * so a new app's first sandbox skips the container's start. Costs one idle
   * container (~40 MB). Returns the function that stops keeping it.
   */
  keepSpare(options: SpareOptions): () => Promise<void> {
    return this.#spare.keep(options);
  }

  /** Stops the spare container if no sandbox took it. */
  dropSpare(): Promise<void> {
    return this.#spare.drop();
  }

  /** This host's images of the runner, with when each was last used. */
  async images(): Promise<ImageInfo[]> {
    return await listImages(await this.#client(), this.#gcOptions());
  }

  /** Removes images no container uses that nobody used for `unusedForMs`; returns them. */
  async pruneImages(unusedForMs: number): Promise<ImageInfo[]> {
    return await pruneImages(await this.#client(), { ...this.#gcOptions(), unusedForMs });
  }

  #gcOptions() {
    return { cacheDir: this.#options.cacheDir, repository: this.#options.imageRepository };
  }

  /**
   * Removes containers labelled as ours whose worker process on this host is
   * gone, now and then every 30 s (a worker killed with SIGKILL cannot).
   */
  async cleanup(): Promise<void> {
    await this.#reap();
    if (!this.#reaper) {
      this.#reaper = setInterval(() => this.#reap().catch(() => {}), 30_000);
      Deno.unrefTimer(this.#reaper);
    }
  }

  async #reap(): Promise<void> {
    const docker = await this.#client();
    const host = Deno.hostname();
    const containers = await docker.listContainers({
      all: true,
      filters: { label: [WORKER_LABEL] },
    });
    await Promise.all(containers.map(async (c) => {
      const [owner, pid, started] = (c.Labels[WORKER_LABEL] ?? "").split(":");
      if (owner !== host || await processAlive(Number(pid), started)) return;
      await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    }));
  }

  async #image(def: FunctionSpec): Promise<string> {
    const known = this.#tags.get(imageKey(def));
    if (known) return known;
    const tag = await (await this.#imageBuilder()).ensure(def.image, { log: () => {} });
    this.#tags.set(imageKey(def), tag);
    return tag;
  }

  #client(): Promise<Dockerode> {
    return this.#docker ??= connectDocker(this.#options.socketPath ?? dockerSocketPath());
  }

  #imageBuilder(): Promise<ImageBuilder> {
    return this.#builder ??= this.#client().then((docker) =>
      new ImageBuilder({
        docker,
        cacheDir: this.#options.cacheDir,
        denoPath: this.#options.denoPath ?? denoPath(),
        repository: this.#options.imageRepository,
        buildCache: this.#options.buildCache,
      })
    );
  }
}

/** What identifies a function's image among those this runner built. */
function imageKey(def: FunctionSpec): string {
  return JSON.stringify(def.image?.layers.map((l) => l.layer) ?? null);
}
