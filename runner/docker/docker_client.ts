/**
 * The part of the Docker API that code outside `runner/docker/` may use: a
 * narrow, documented view of the dockerode client, so the door does not
 * expose dockerode's whole (undocumented) surface. End-to-end tests and
 * benchmarks use it to find, kill and clean up what the docker runner made.
 * @module
 */
import { connectDocker as connectDockerode } from "./_docker.ts";

/** Which objects a listing returns: label or reference filters, as `docker ps --filter` takes. */
export interface DockerListOptions {
  /** Containers: include stopped ones too. @default false */
  all?: boolean;
  /** Filter name (`label`, `reference`, ...) to the values to match. */
  filters?: Record<string, string[]>;
}

/** A container as a listing describes it. */
export interface DockerContainerInfo {
  /** The container's id. */
  Id: string;
  /** Its labels. */
  Labels: Record<string, string>;
}

/** An image as a listing describes it. */
export interface DockerImageInfo {
  /** The image's id. */
  Id: string;
  /** Creation time in seconds since the epoch. */
  Created: number;
  /** Its `name:tag` references, if it has any. */
  RepoTags?: string[];
}

/** A client for one Docker daemon. */
export interface DockerClient {
  /** Running containers that match the filters. */
  listContainers(options?: DockerListOptions): Promise<DockerContainerInfo[]>;
  /** A handle on one container. */
  getContainer(id: string): {
    /** Sends SIGKILL to the container. */
    kill(): Promise<unknown>;
  };
  /** Images that match the filters. */
  listImages(options?: DockerListOptions): Promise<DockerImageInfo[]>;
  /** A handle on one image. */
  getImage(name: string): {
    /** Removes the image (`force` also untags it from containers that use it). */
    remove(options?: { force?: boolean }): Promise<unknown>;
  };
}

/**
 * A client for the Docker daemon at `socketPath`.
 *
 * @example
 * ```ts ignore
 * import { connectDocker, dockerSocketPath } from "./mod.ts";
 * const docker = await connectDocker(dockerSocketPath());
 * console.log((await docker.listContainers()).length);
 * ```
 */
export function connectDocker(socketPath: string): Promise<DockerClient> {
  return connectDockerode(socketPath);
}
