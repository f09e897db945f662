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
  type EarlySpare,
  type ImageInfo,
} from "./docker/mod.ts";
export { debianDenoBase, type DebianDenoBaseOptions } from "./docker/mod.ts";
export { ImageBuildError } from "./errors.ts";
export type {
  BuildLog,
  FetchBlob,
  FunctionSpec,
  PrepareOptions,
  Runner,
  Sandbox,
  SandboxExit,
  SandboxSpec,
  SpareOptions,
} from "./runner.ts";
export type { ImageFileSpec, ImageLayerSpec, ImageSpec } from "./image_spec.ts";
// Named in the worker's options; defined in proto/.
export type { Clock, TimerHandle } from "../proto/clock.ts";
export type { Capacity } from "./_resources.ts";
/**
 * A worker's copy of a volume and its chunk cache (used by the volume benchmark).
 * Their signatures name `proto/volume_client.ts`, a wire-layer leaf like
 * `proto/transport.ts` whose types are Connect's and protobuf's.
 * @ignore
 */
export { ChunkCache, VolumeCopy } from "./_volume_copy.ts";
