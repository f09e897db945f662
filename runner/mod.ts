/**
 * The worker side: what the rest of the project may use from `runner/`.
 *
 * For users of the project: {@linkcode Worker} and the two runners,
 * {@linkcode DenoRunner} and {@linkcode DockerRunner}. For code that embeds or
 * tests a worker: the {@linkcode Runner} seam, and the types the worker's
 * options name.
 * @module
 */
export { Worker, type WorkerOptions } from "./worker.ts";
export { DenoRunner, type DenoRunnerOptions } from "./deno_runner.ts";
export {
  connectDocker,
  type DockerClient,
  type DockerContainerInfo,
  type DockerImageInfo,
  type DockerListOptions,
  dockerReachable,
  DockerRunner,
  type DockerRunnerOptions,
  dockerSocketPath,
  type ImageInfo,
} from "./docker/mod.ts";
export { debianDenoBase, type DebianDenoBaseOptions } from "./docker/mod.ts";
export { ImageBuildError } from "./errors.ts";
export type {
  BuildLog,
  FetchBlob,
  FunctionSpec,
  Runner,
  Sandbox,
  SandboxExit,
  SandboxSpec,
} from "./runner.ts";
// Named in the worker's options; defined in proto/.
export type { Clock, TimerHandle } from "../proto/clock.ts";
/** A worker's copy of a volume and its chunk cache (used by the volume benchmark). */
export { ChunkCache, VolumeCopy } from "./_volume_copy.ts";
/** The volume client a {@linkcode VolumeCopy} works through; defined in proto/. */
export type { Progress, VolumeClient, VolumeTree } from "../proto/volume_client.ts";
