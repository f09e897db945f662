/**
 * The Debian base with this host's Deno, as a tag, for images outside the
 * runner that want the same base as functions' `Image.debianSlim()` (the
 * project's own image, built by `deno task image`). Built once per host:
 * debootstrap the first time, then Deno and the CA bundle on top.
 * @module
 */
import { connectDocker, dockerSocketPath } from "./_docker.ts";
import { ImageBuilder } from "./_image_builder.ts";
import type { BuildLog } from "../runner.ts";

/** Options for {@linkcode debianDenoBase}. */
export interface DebianDenoBaseOptions {
  /** Holds build locks and the debootstrap scratch directory. */
  cacheDir: string;
  /** The Deno binary put into the image. @default Deno.execPath() */
  denoPath?: string;
  /** Build progress, one line at a time. */
  log: BuildLog;
}

/**
 * Makes sure the Debian + Deno base exists on this host's engine; returns its tag.
 *
 * @example
 * ```ts ignore
 * const tag = await debianDenoBase({ cacheDir: "/tmp/nm", log: console.error });
 * ```
 */
export async function debianDenoBase(options: DebianDenoBaseOptions): Promise<string> {
  const builder = new ImageBuilder({
    docker: await connectDocker(dockerSocketPath()),
    cacheDir: options.cacheDir,
    denoPath: options.denoPath ?? Deno.execPath(),
  });
  return await builder.ensure({ layers: [{ layer: { case: "base", value: "debian-slim" } }] }, {
    log: options.log,
  });
}
