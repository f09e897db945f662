/**
 * Turns an image definition into a local Docker image, built once per host.
 * An image is tagged by the hash of its definition (and of its base, which
 * holds this worker's Deno): `nano-modal/img:<hash>`. Before building, the
 * daemon is asked whether the tag exists; builds of one tag are shared by
 * concurrent callers in this process and serialized across processes with a
 * file lock, so two workers on a host never build the same image twice.
 */
import type { Dockerode } from "./_docker.ts";
import { isNotFound } from "./_docker.ts";
import { dockerBuild } from "./_docker_build.ts";
import {
  DEBIAN_ROOTFS,
  denoBasePlan,
  type DenoKit,
  denoKit,
  importDebianRootfs,
  overlayBasePlan,
  pullImage,
} from "./_image_bases.ts";
import { sha256Hex } from "../../proto/content_hash.ts";
import {
  type BaseLayer,
  type BuildPlan,
  contextEntries,
  parseImage,
  planLayers,
} from "./_image_layers.ts";
import { type TarEntry, tarStream } from "./_tar.ts";
import { ImageBuildError } from "../errors.ts";
import type { BuildLog, FetchBlob, PrepareOptions } from "../runner.ts";
import type { ImageSpec } from "../image_spec.ts";

/** Bump when the way images are built changes, so old tags are not reused. */
const BUILDER_VERSION = 1;
/** How long a failed build is reported again without retrying (a fix changes the tag anyway). */
const FAILURE_MEMORY_MS = 30_000;

/** Options for {@linkcode ImageBuilder}. */
export interface ImageBuilderOptions {
  docker: Dockerode;
  /** Holds build locks and the debootstrap scratch directory. */
  cacheDir: string;
  /** The Deno binary put into images. */
  denoPath: string;
  /** First part of every image tag. @default "nano-modal" */
  repository?: string;
  /** Let docker reuse cached build steps. @default true */
  buildCache?: boolean;
}

/** Builds and caches the images of function definitions. */
export class ImageBuilder {
  readonly #docker: Dockerode;
  readonly #dir: string;
  readonly #denoPath: string;
  readonly #repository: string;
  readonly #noCache: boolean;
  readonly #ready = new Map<string, Promise<void>>();
  readonly #built = new Set<string>();
  readonly #failed = new Map<string, { error: unknown; atMs: number }>();
  #kit?: Promise<DenoKit>;

  constructor(options: ImageBuilderOptions) {
    this.#docker = options.docker;
    this.#dir = `${options.cacheDir}/images`;
    this.#denoPath = options.denoPath;
    this.#repository = options.repository ?? "nano-modal";
    this.#noCache = options.buildCache === false;
  }

  /** Makes sure `image` (undefined: `Image.deno()`) exists and returns its tag. */
  async ensure(image: ImageSpec | undefined, options: PrepareOptions): Promise<string> {
    const { log, fetchBlob } = options;
    const def = parseImage(image);
    const base = await this.#base(def.base, log);
    if (def.layers.length === 0) return base;
    const plan = planLayers(base, def.layers);
    // The Dockerfile names the base (which names this Deno) and every layer; files by content hash.
    const id = await sha256Hex(
      new TextEncoder().encode(JSON.stringify([BUILDER_VERSION, plan.dockerfile, plan.files])),
    );
    const tag = `${this.#repository}/img:${id.slice(0, 24)}`;
    await this.#once(tag, log, async () => {
      const blobs = await fetchBlobs(plan, fetchBlob);
      log(`Building image ${tag} (${plan.steps.length} steps)…`);
      await this.#build(tag, plan, contextEntries(plan, blobs), log);
    });
    return tag;
  }

  /** The tag of `Image.deno()` if this host has that image already (nothing is built), else undefined. */
  async builtDenoBase(): Promise<string | undefined> {
    const tag = this.#denoBaseTag(await (this.#kit ??= denoKit(this.#denoPath)));
    if (this.#built.has(tag)) return tag;
    if (!(await this.#exists(tag))) return undefined;
    this.#built.add(tag);
    return tag;
  }

  #denoBaseTag(kit: DenoKit): string {
    return `${this.#repository}/deno:${kit.id}`;
  }

  /** Forgets that `tag` was built (it was removed behind our back). */
  forget(tag: string): void {
    this.#built.delete(tag);
  }

  async #base(base: BaseLayer, log: BuildLog): Promise<string> {
    const kit = await (this.#kit ??= denoKit(this.#denoPath));
    if (base.case === "base" && base.value === "deno") {
      const tag = this.#denoBaseTag(kit);
      await this.#once(tag, log, async () => {
        log(`Building the Deno base image ${tag}…`);
        const plan = await denoBasePlan(kit);
        await this.#build(tag, plan, plan.entries, log);
      });
      return tag;
    }
    const from = base.case === "registry" ? base.value : `${this.#repository}/${DEBIAN_ROOTFS}`;
    await this.#once(
      from,
      log,
      () =>
        base.case === "registry"
          ? pullImage(this.#docker, base.value, log)
          : importDebianRootfs(this.#docker, { tag: from, workDir: this.#dir, log }),
    );
    const id = await sha256Hex(new TextEncoder().encode(`${BUILDER_VERSION}\0${from}\0${kit.id}`));
    const tag = `${this.#repository}/${base.case === "registry" ? "registry" : "debian"}:${
      id.slice(0, 24)
    }`;
    await this.#once(tag, log, async () => {
      log(`Adding Deno to ${from} as ${tag}…`);
      const plan = overlayBasePlan(from, kit);
      await this.#build(tag, plan, plan.entries, log);
    });
    return tag;
  }

  /** Runs `make` unless `tag` exists, at most once at a time per tag on this host. */
  #once(tag: string, log: BuildLog, make: () => Promise<void>): Promise<void> {
    if (this.#built.has(tag)) return Promise.resolve();
    const failed = this.#failed.get(tag);
    // Inputs of a .map arrive in waves: one failing build must not rerun for each wave.
    if (failed && Date.now() - failed.atMs < FAILURE_MEMORY_MS) return Promise.reject(failed.error);
    let ready = this.#ready.get(tag);
    if (ready) {
      log(`Waiting for the build of ${tag}…`);
    } else {
      ready = this.#ensureTag(tag, make);
      this.#ready.set(tag, ready);
      ready.then(
        () => this.#built.add(tag),
        (error) => this.#failed.set(tag, { error, atMs: Date.now() }),
      ).finally(() => this.#ready.delete(tag));
    }
    return ready;
  }

  async #ensureTag(tag: string, make: () => Promise<void>): Promise<void> {
    if (await this.#exists(tag)) return;
    await Deno.mkdir(`${this.#dir}/locks`, { recursive: true });
    const lock = await Deno.open(`${this.#dir}/locks/${tag.replace(/[^\w.-]/g, "_")}.lock`, {
      create: true,
      write: true,
    });
    try {
      await lock.lock(true);
      // Another worker process may have built it while we waited for the lock.
      if (await this.#exists(tag)) return;
      await make();
    } finally {
      lock.close();
    }
  }

  async #exists(tag: string): Promise<boolean> {
    try {
      await this.#docker.getImage(tag).inspect();
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw new ImageBuildError(
        `Cannot ask the Docker daemon about ${tag}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async #build(
    tag: string,
    plan: Pick<BuildPlan, "dockerfile" | "steps">,
    files: TarEntry[],
    log: BuildLog,
  ): Promise<void> {
    const started = performance.now();
    const context = tarStream([{
      name: "Dockerfile",
      data: new TextEncoder().encode(plan.dockerfile),
    }, ...files]);
    await dockerBuild(this.#docker, {
      tag,
      context,
      steps: plan.steps,
      log,
      noCache: this.#noCache,
    });
    log(`Built ${tag} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** Fetches each file a plan needs; returns host paths by content hash. */
async function fetchBlobs(
  plan: BuildPlan,
  fetchBlob: FetchBlob | undefined,
): Promise<Map<string, string>> {
  const hashes = [...new Set(plan.files.map((f) => f.hash))];
  if (hashes.length && !fetchBlob) {
    throw new ImageBuildError(
      "This worker cannot fetch the image's local files: run it through a nano-modal worker",
    );
  }
  const paths = await Promise.all(hashes.map(async (hash) => {
    try {
      return await fetchBlob!(hash);
    } catch (err) {
      throw new ImageBuildError(
        `Cannot fetch image file ${hash.slice(0, 12)}… from the server: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }));
  return new Map(hashes.map((h, i) => [h, paths[i]]));
}
