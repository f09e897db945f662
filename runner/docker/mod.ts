/**
 * The Docker runner and image building: what the rest of `runner/` (and,
 * through `runner/mod.ts`, the project) may use from `runner/docker/`.
 * @module
 */
export { DockerRunner, type DockerRunnerOptions } from "./docker_runner.ts";
export type { ImageInfo } from "./_image_gc.ts";
export type { EarlySpare, SpareRecipe } from "./early_spare.ts";
export { dockerReachable, dockerSocketPath } from "./_docker.ts";
export {
  connectDocker,
  type DockerClient,
  type DockerContainerInfo,
  type DockerImageInfo,
  type DockerListOptions,
} from "./docker_client.ts";
export { debianDenoBase, type DebianDenoBaseOptions } from "./debian_deno_base.ts";
