/**
 * Bundles the in-sandbox entrypoint into one JavaScript file, once per
 * version of its source, so sandboxes load a single file with no TypeScript
 * to compile and containers need only that file mounted.
 */
import { denoPath } from "../proto/deno_path.ts";
import { sha256Hex } from "../proto/content_hash.ts";
import { touchCached } from "../proto/cache_prune.ts";

/** The entrypoint's own files: a change to any of them makes a new bundle. */
export const SOURCES = [
  "runner/entrypoint.ts",
  "runner/_protocol.ts",
  "runner/_framing.ts",
  "runner/_frame_codec.ts",
  "runner/_describe.ts",
  "runner/_entrypoint_errors.ts",
  "runner/_web_input.ts",
  "proto/credit_stream.ts",
  "proto/payload.ts",
  "proto/runtime.ts", // types only: listed so that the key is simply the whole import graph
  "proto/thenable.ts",
];
const ROOT = new URL("../", import.meta.url);

/** Builds in progress in this process, by path: workers starting at once build once. */
const building = new Map<string, Promise<string>>();

/** Path of the bundled entrypoint inside `cacheDir`, building it if needed. */
export async function entrypointFile(cacheDir: string): Promise<string> {
  const sources = await Promise.all(SOURCES.map((s) => Deno.readTextFile(new URL(s, ROOT))));
  const tag = (await sha256Hex(new TextEncoder().encode(sources.join("\0")))).slice(0, 16);
  const path = `${cacheDir}/entrypoint-${tag}.js`;
  // Built already: a use keeps it from the cache's pruning (proto/cache_prune.ts).
  if (await touchCached(path)) return path;
  let build = building.get(path);
  if (!build) {
    build = bundleTo(path).finally(() => building.delete(path));
    building.set(path, build);
  }
  return await build;
}

/** Bundles the entrypoint into `path` (another process may do the same: the last rename wins). */
async function bundleTo(path: string): Promise<string> {
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const { code, stderr } = await new Deno.Command(denoPath(), {
    args: [
      "bundle",
      "--quiet",
      "--no-config",
      "--platform=deno",
      "-o",
      tmp,
      new URL(SOURCES[0], ROOT).pathname,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `Cannot bundle the sandbox entrypoint: ${new TextDecoder().decode(stderr).trim()}`,
    );
  }
  await Deno.rename(tmp, path);
  return path;
}
