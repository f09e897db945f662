/**
 * The runner's images on this host, and their cleanup: each container start
 * notes when its image was last used (a file per tag under the cache dir, so
 * every worker of the host and `nano-modal image` agree); `pruneImages`
 * removes the images no container uses and nobody used for a while.
 * @module
 */
import type { Dockerode } from "./_docker.ts";

/** One of the runner's images. */
export interface ImageInfo {
  /** e.g. `nano-modal/img:3f2a…`. */
  tag: string;
  /** Its size as the daemon reports it (layers shared with other images included). */
  sizeBytes: number;
  /** When it was built (ms since the epoch). */
  createdMs: number;
  /** The last container start from it (its creation if none was noted). */
  lastUsedMs: number;
  /** Whether a container (running or not) uses it now. */
  inUse: boolean;
}

/** Where images are noted. */
export interface ImageGcOptions {
  /** The worker's cache dir (`NANO_MODAL_CACHE`). */
  cacheDir: string;
  /** First part of the tags. @default "nano-modal" */
  repository?: string;
}

function usedFile(cacheDir: string, tag: string): string {
  return `${cacheDir}/images/used/${tag.replace(/[^\w.-]/g, "_")}`;
}

/** Notes that a container starts from `tag` now. */
export async function markImageUsed(cacheDir: string, tag: string): Promise<void> {
  const file = usedFile(cacheDir, tag);
  try {
    await Deno.writeTextFile(file, tag);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    await Deno.mkdir(`${cacheDir}/images/used`, { recursive: true });
    await Deno.writeTextFile(file, tag);
  }
}

/** The runner's images on the daemon, newest use first. */
export async function listImages(docker: Dockerode, options: ImageGcOptions): Promise<ImageInfo[]> {
  const repository = options.repository ?? "nano-modal";
  const [images, containers] = await Promise.all([
    docker.listImages({ filters: { reference: [`${repository}/*`] } }),
    docker.listContainers({ all: true }),
  ]);
  const used = new Set(containers.flatMap((c) => [c.Image, c.ImageID]));
  const out: ImageInfo[] = [];
  for (const image of images) {
    for (const tag of image.RepoTags ?? []) {
      if (!tag.startsWith(`${repository}/`)) continue;
      const createdMs = image.Created * 1000;
      let lastUsedMs = createdMs;
      try {
        const mtime = (await Deno.stat(usedFile(options.cacheDir, tag))).mtime;
        if (mtime) lastUsedMs = Math.max(createdMs, mtime.getTime());
      } catch {
        // never noted: its creation counts
      }
      out.push({
        tag,
        sizeBytes: image.Size,
        createdMs,
        lastUsedMs,
        inUse: used.has(tag) || used.has(image.Id),
      });
    }
  }
  return out.sort((a, b) => b.lastUsedMs - a.lastUsedMs);
}

/**
 * Removes the runner's images that no container uses and nobody used for
 * `unusedForMs`; returns those removed. An image others build on (a base)
 * stays until they go.
 */
export async function pruneImages(
  docker: Dockerode,
  options: ImageGcOptions & { unusedForMs: number; nowMs?: number },
): Promise<ImageInfo[]> {
  const before = (options.nowMs ?? Date.now()) - options.unusedForMs;
  const removed: ImageInfo[] = [];
  // Function images first, so the bases they stood on can go in the same pass.
  const images = (await listImages(docker, options)).sort((a, b) =>
    Number(a.tag.includes("/img:")) > Number(b.tag.includes("/img:")) ? -1 : 0
  );
  for (const image of images) {
    if (image.inUse || image.lastUsedMs > before) continue;
    try {
      await docker.getImage(image.tag).remove();
      removed.push(image);
      await Deno.remove(usedFile(options.cacheDir, image.tag)).catch(() => {});
    } catch {
      // In use by a child image or a container that just started: next time.
    }
  }
  return removed;
}
