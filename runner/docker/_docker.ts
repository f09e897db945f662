/**
 * Reaching the Docker daemon: where its socket is, a fast liveness check
 * that loads nothing, and the dockerode client, loaded only when the docker
 * runner is used (it costs ~80 ms of module loading).
 */
import type { Dockerode } from "./_dockerode.ts";

export type { Dockerode };
export { dockerReachable, dockerSocketPath } from "./_socket.ts";

/**
 * Where dockerode is, imported by a specifier built at run time: written out, Deno would resolve
 * dockerode's npm graph whenever this module loads (~10 ms of every run on the deno runner, which
 * never uses it). The Dockerfile, `deno task image` and `deno task compile` name it instead.
 */
const DOCKERODE_MODULE = new URL("./_dockerode.ts", import.meta.url).href;

/** A dockerode client for the daemon at `socketPath`. */
export async function connectDocker(socketPath: string): Promise<Dockerode> {
  const { Dockerode } = await import(DOCKERODE_MODULE) as typeof import("./_dockerode.ts");
  return new Dockerode({ socketPath });
}

/** Whether `err` is the daemon's "no such container/image" answer. */
export function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number })?.statusCode === 404;
}
