/**
 * Keeps the cache dir (proto/cache_dir.ts) from growing without bound: every
 * changed app file adds a bundle (~330 KB with the SDK inlined) and an index
 * entry, and every nano-modal version its own entrypoint build. A file's
 * modification time is when it was last used (writers set it; readers call
 * {@linkcode touchCached}), and {@linkcode pruneCache} deletes what went
 * unused for {@linkcode CACHE_MAX_AGE_MS}, at most once a day per cache dir
 * (a stamp file says when one last ran), plus temp files of writers that died.
 * @module
 */

import { removeUnusedSince } from "./remove_unused.ts";

/** Cached files unused this long are deleted. */
export const CACHE_MAX_AGE_MS = 7 * 86_400_000;
/** A cache dir is pruned at most this often, across the processes sharing it. */
export const CACHE_PRUNE_EVERY_MS = 86_400_000;
/** A temp file this old was left by a writer that died. */
const TMP_AGE_MS = 3_600_000;
/** The stamp file whose modification time is when the dir was last pruned. */
const STAMP = ".pruned";
/** Files looked at between turns of the event loop. */
const SLICE = 512;

/** What a prune deleted. */
export interface PruneReport {
  files: number;
  bytes: number;
}

/** Notes a use of a cached file, so a prune keeps it; `false` if the file is gone. */
export async function touchCached(path: string, nowMs = Date.now()): Promise<boolean> {
  try {
    await Deno.utime(path, nowMs / 1000, nowMs / 1000);
    return true;
  } catch {
    return false; // gone, or not ours to touch: either way nothing to keep
  }
}

async function modifiedMs(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).mtime?.getTime();
  } catch {
    return undefined;
  }
}

/**
 * Deletes the cache's bundles, index entries and entrypoint builds unused for
 * `maxAgeMs`, and temp files older than an hour; `null` if the dir was pruned
 * less than {@linkcode CACHE_PRUNE_EVERY_MS} ago (unless `force`).
 */
export async function pruneCache(
  dir: string,
  options: { nowMs?: number; maxAgeMs?: number; force?: boolean } = {},
): Promise<PruneReport | null> {
  const nowMs = options.nowMs ?? Date.now();
  const maxAgeMs = options.maxAgeMs ?? CACHE_MAX_AGE_MS;
  const last = await modifiedMs(`${dir}/${STAMP}`);
  if (!options.force && last !== undefined && nowMs - last < CACHE_PRUNE_EVERY_MS) return null;
  const report: PruneReport = { files: 0, bytes: 0 };
  const sweep = async (sub: string, old: (name: string) => number | undefined) => {
    const path = sub ? `${dir}/${sub}` : dir;
    let names: string[];
    try {
      names = [...Deno.readDirSync(path)].filter((e) => e.isFile).map((e) => e.name);
    } catch {
      return; // no such dir yet
    }
    // Synchronous stats (~6 µs a file here, a third of async ones) in slices, yielding between
    // them: a worker keeps serving while thousands of bundles are looked at.
    for (let i = 0; i < names.length; i += SLICE) {
      if (i > 0) await new Promise((r) => setTimeout(r, 0));
      for (const name of names.slice(i, i + SLICE)) {
        const ageMs = old(name);
        if (ageMs === undefined) continue;
        const file = `${path}/${name}`;
        try {
          const mtime = Deno.statSync(file).mtime;
          if (!mtime || nowMs - mtime.getTime() <= ageMs) continue;
        } catch {
          continue; // gone meanwhile (another process pruned it), or not ours: leave it
        }
        // Moved aside before its last check: a file a process just found in use stays.
        const aside = `${file}.${crypto.randomUUID()}.tmp`;
        const size = await removeUnusedSince(file, nowMs - ageMs, aside);
        if (size !== null) {
          report.files++;
          report.bytes += size;
        }
      }
    }
  };
  const cached = (test: RegExp) => (name: string) =>
    name.endsWith(".tmp") ? TMP_AGE_MS : test.test(name) ? maxAgeMs : undefined;
  await sweep("bundles", cached(/\.js$/));
  await sweep("bundle-index", cached(/\.json$/));
  await sweep("", cached(/^entrypoint-[0-9a-f]+\.js$/));
  await Deno.mkdir(dir, { recursive: true }).catch(() => {});
  await Deno.writeTextFile(`${dir}/${STAMP}`, "").catch(() => {});
  await touchCached(`${dir}/${STAMP}`, nowMs);
  return report;
}
