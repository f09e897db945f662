/**
 * What a worker prepares as it starts, while it already serves: the
 * sandboxes' entrypoint (sandboxes wait for it, not the stream), and clearing
 * what dead workers left (told apart by their pids, never this worker's). The
 * first input of a `nano-modal run` used to wait ~15 ms for the runner's host
 * probe that clearing needs.
 */
import type { Runner } from "./runner.ts";
import { entrypointFile } from "./_entrypoint_file.ts";
import { reapSandboxes } from "./_reap.ts";

/** Builds the entrypoint (settling `entrypoint` with its path) and clears leftovers. */
export async function prepareWorker(
  options: { cacheDir: string; runner: Runner },
  entrypoint: PromiseWithResolvers<string>,
): Promise<void> {
  const { cacheDir, runner } = options;
  entrypoint.promise.catch(() => {}); // a pool waiting for it reports the failure too
  await Promise.all([
    entrypointFile(cacheDir).then(entrypoint.resolve, (err) => {
      entrypoint.reject(err);
      throw err;
    }),
    reapSandboxes(`${cacheDir}/sandboxes`).then(() => runner.cleanup()),
  ]);
}
