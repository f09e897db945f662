/**
 * Bundles cached by content, in the user's cache dir (proto/cache_dir.ts):
 * running an app again skips `deno bundle` while its entry file and every
 * local file the bundle was built from read the same, under the same
 * nano-modal and Deno versions and the same externals.
 *
 * An entry is found by the hash of those settings and the entry file's
 * bytes; it lists the other local files with their hashes, and is used only
 * if each still hashes the same. Those files are the bundle's sources (from
 * its source map) and, transitively, the local files they import by path,
 * which catches modules that only hold types (they leave no code behind), plus
 * the nearest deno.json, which decides how the rest resolves. npm packages in
 * Deno's cache are keyed by their version and are not read again.
 * The bundle itself is stored under its own hash in `bundles/`, where the
 * worker of an embedded run looks before downloading it.
 */
import { sha256Hex } from "../proto/content_hash.ts";
import { cacheDir } from "../proto/cache_dir.ts";
import { denoConfigPath } from "../proto/sdk_import_map.ts";
import { VERSION } from "./version.ts";
import { SDK_END_MARK } from "../proto/bundle_format.ts";
import type { Bundle } from "./_bundle.ts";
import { writeAtomically } from "../proto/write_atomically.ts";
import { touchCached } from "../proto/cache_prune.ts";

const encoder = new TextEncoder();

/** A local file's hash, or "" if it cannot be read (which never matches a stored one). */
async function fileHash(path: string): Promise<string> {
  try {
    return await sha256Hex(await Deno.readFile(path));
  } catch {
    return "";
  }
}

/** Paths of local modules a file imports by relative or absolute path. */
function localImports(path: string, text: string): string[] {
  const found: string[] = [];
  const re = /\b(?:from|import)\s*\(?\s*["']((?:\.{1,2}\/|\/|file:\/\/)[^"']+)["']/g;
  for (const m of text.matchAll(re)) {
    try {
      const url = new URL(m[1], `file://${path}`);
      if (url.protocol === "file:") found.push(decodeURIComponent(url.pathname));
    } catch {
      // Not a URL we can follow; the bundle's own sources still count.
    }
  }
  return found;
}

/** A file's bytes, or undefined if it cannot be read. */
async function readOrNothing(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch {
    return undefined;
  }
}

const decoder = new TextDecoder();

/**
 * The local files `sources` (file: URLs) stand for, with what they import
 * locally, and their hashes. Read a level at a time, all of a level at once:
 * few waits on a thread that is busy loading the control plane meanwhile.
 */
async function localInputs(sources: string[], entryPath: string): Promise<Record<string, string>> {
  const seen = new Set<string>();
  let level = [
    entryPath,
    ...sources.filter((s) => s.startsWith("file:"))
      .map((s) => decodeURIComponent(new URL(s).pathname))
      .filter((p) => !p.includes("/npm/registry.npmjs.org/")),
  ];
  const inputs: Record<string, string> = {};
  while (level.length > 0) {
    const paths = [...new Set(level)].filter((p) => !seen.has(p));
    for (const p of paths) seen.add(p);
    const read = await Promise.all(paths.map(async (path) => {
      const bytes = await readOrNothing(path);
      return { path, bytes, hash: bytes ? await sha256Hex(bytes) : "" };
    }));
    level = [];
    for (const { path, bytes, hash } of read) {
      if (!bytes) continue; // not a file we can read: nothing to compare later
      if (path !== entryPath) inputs[path] = hash; // the entry is part of the key
      // Its imports count even if it leaves no code (a module of types only).
      if (/\.[cm]?[jt]sx?$/.test(path)) level.push(...localImports(path, decoder.decode(bytes)));
    }
  }
  const config = await denoConfigPath(entryPath.slice(0, entryPath.lastIndexOf("/")) || "/");
  if (config && !seen.has(config)) inputs[config] = await fileHash(config);
  return inputs;
}

/** The cache entry of one entry file, under one set of settings. */
export class BundleCache {
  readonly #index: string;
  readonly #bundles: string;

  private constructor(index: string, bundles: string) {
    this.#index = index;
    this.#bundles = bundles;
  }

  /** The entry for `entryPath` bundled with `settings` (externals, the client's path). */
  static async open(entryPath: string, settings: string[]): Promise<BundleCache> {
    const key = await sha256Hex(encoder.encode(JSON.stringify([
      VERSION,
      // The linked bundle's shape (proto/bundle_format.ts), which runners rely on.
      SDK_END_MARK,
      Deno.version.deno,
      entryPath,
      settings,
      // Adding a deno.json changes how the same files resolve.
      await denoConfigPath(entryPath.slice(0, entryPath.lastIndexOf("/")) || "/") ?? "",
      await fileHash(entryPath),
    ])));
    const dir = cacheDir();
    return new BundleCache(`${dir}/bundle-index/${key}.json`, `${dir}/bundles`);
  }

  /** The cached bundle, if every file it was built from is unchanged. */
  async lookup(): Promise<Bundle | undefined> {
    try {
      const entry = JSON.parse(await Deno.readTextFile(this.#index)) as {
        hash: string;
        inputs: Record<string, string>;
      };
      const paths = Object.keys(entry.inputs);
      const now = await Promise.all(paths.map(fileHash));
      if (paths.some((p, i) => now[i] !== entry.inputs[p])) return undefined;
      const path = `${this.#bundles}/${entry.hash}.js`;
      const code = await Deno.readFile(path);
      if (await sha256Hex(code) !== entry.hash) return undefined;
      // Used: kept from the cache's pruning (proto/cache_prune.ts) another week.
      await Promise.all([touchCached(this.#index), touchCached(path)]);
      return { code, hash: entry.hash };
    } catch {
      return undefined; // no entry yet, or one we cannot read: bundle again
    }
  }

  /** Records `bundle`, built from the files its source map lists as `sources`. */
  async store(bundle: Bundle, sources: string[], entryPath: string): Promise<void> {
    try {
      const inputs = await localInputs(sources, entryPath);
      await writeInDir(`${this.#bundles}/${bundle.hash}.js`, bundle.code);
      await writeInDir(
        this.#index,
        encoder.encode(JSON.stringify({ hash: bundle.hash, inputs })),
      );
    } catch {
      // A cache we cannot write only means bundling again next time.
    }
  }
}

async function writeInDir(path: string, data: Uint8Array): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await writeAtomically(path, data);
}
