/**
 * The worker side: what the rest of the project may use from `runner/`.
 * @module
 */
export { Worker, type WorkerOptions } from "./worker.ts";
export { DenoRunner, type DenoRunnerOptions } from "./deno_runner.ts";
export {
  connectDocker,
  dockerReachable,
  DockerRunner,
  type DockerRunnerOptions,
  dockerSocketPath,
} from "./docker/mod.ts";
export { ImageBuildError } from "./errors.ts";
export type { BuildLog, FetchBlob, Runner, Sandbox, SandboxExit, SandboxSpec } from "./runner.ts";
/** A worker's copy of a volume and its chunk cache (used by the volume benchmark). */
export { ChunkCache, VolumeCopy } from "./_volume_copy.ts";
