/** Picks the runner: the flag, else docker when a daemon answers, else deno. */
import {
  DenoRunner,
  dockerReachable,
  DockerRunner,
  dockerSocketPath,
  type Runner,
} from "../runner/mod.ts";
import { UsageError } from "./errors.ts";
import type { EarlySpare } from "../runner/early.ts";
import { runnerName } from "./_runner_name.ts";

/** Cache directory for bundles and images (see proto/cache_dir.ts). */
export { cacheDir } from "../proto/mod.ts";
import { cacheDir } from "../proto/mod.ts";

/** The docker runner's image repository (`NANO_MODAL_IMAGE_REPOSITORY`, default "nano-modal"). */
export function imageRepository(): string | undefined {
  return Deno.env.get("NANO_MODAL_IMAGE_REPOSITORY") || undefined;
}

/**
 * Creates the runner named by `flag` (or the best available one). A docker runner takes
 * `earlySpare` as its first spare if it fits (`runner/docker/early_spare.ts`).
 */
export async function chooseRunner(
  flag: string | boolean | undefined,
  announce: (line: string) => void,
  earlySpare?: Promise<EarlySpare | undefined>,
): Promise<Runner> {
  const name = runnerName(flag);
  const why = flag !== undefined ? `--runner ${flag}` : `NANO_MODAL_RUNNER=${name}`;
  if (name !== "auto" && name !== "deno" && name !== "docker") {
    throw new UsageError(`--runner must be "docker" or "deno", got "${name}"`);
  }
  const socket = dockerSocketPath();
  if (name !== "deno") {
    // A quick ping: a missing or hung daemon must not slow down every run.
    if (await dockerReachable(socket, 500)) {
      announce(
        `nano-modal: using the docker runner (${
          name === "auto" ? `Docker daemon at ${socket}` : `${why}, Docker daemon at ${socket}`
        })`,
      );
      await Deno.mkdir(cacheDir(), { recursive: true });
      return new DockerRunner({
        cacheDir: cacheDir(),
        socketPath: socket,
        imageRepository: imageRepository(),
        earlySpare,
      });
    }
    if (name === "docker") {
      throw new UsageError(
        `--runner docker: no Docker daemon answers at ${socket}: start dockerd (or set DOCKER_HOST), or use --runner deno`,
      );
    }
    announce(`nano-modal: using the deno runner (no Docker daemon at ${socket})`);
  } else announce(`nano-modal: using the deno runner (${why})`);
  await Deno.mkdir(`${cacheDir()}/deno`, { recursive: true });
  return new DenoRunner({ denoDir: `${cacheDir()}/deno` });
}
