/**
 * The Docker runner and image building: what the rest of `runner/` (and,
 * through `runner/mod.ts`, the project) may use from `runner/docker/`.
 * @module
 */
export { DockerRunner, type DockerRunnerOptions } from "./docker_runner.ts";
export { connectDocker, type Dockerode, dockerReachable, dockerSocketPath } from "./_docker.ts";
export { debianDenoBase, type DebianDenoBaseOptions } from "./debian_deno_base.ts";
