/**
 * Bundles the user's entry module with its dependencies into one ES module
 * (`deno bundle`, inline source map), cached by content (`_bundle_cache.ts`).
 * Source map paths are made absolute so remote stack frames point at the
 * user's own files wherever the bundle runs.
 */
import { denoPath } from "../proto/deno_path.ts";
import { InvalidError } from "./errors.ts";
import { sha256Hex } from "../proto/content_hash.ts";
import { sdkImportMapFlags, SHIPPED_SDK_URL } from "../proto/sdk_import_map.ts";
import { cacheDir } from "../proto/cache_dir.ts";
import { fastBundle } from "./_fast_bundle.ts";
import { trimMappings } from "./_source_map_trim.ts";
import { CLIENT_MODULE } from "./_connect.ts";
import { BundleCache } from "./_bundle_cache.ts";
import { touchCached } from "../proto/cache_prune.ts";

/** A bundle and its content hash. */
export interface Bundle {
  code: Uint8Array;
  /** Hex SHA-256 of `code`. */
  hash: string;
}

const MAP_PREFIX = "//# sourceMappingURL=data:application/json;base64,";

/** The SDK's client half stays an import in bundles: containers never load it. */
const CLIENT_EXTERNAL = CLIENT_MODULE.protocol === "file:"
  ? decodeURIComponent(CLIENT_MODULE.pathname)
  : CLIENT_MODULE.href;

/**
 * Bundles `entryUrl` (a file: URL), or takes the bundle from the cache when
 * nothing it was built from changed (see `_bundle_cache.ts`). Imports
 * matching `externals` (e.g. `npm:sharp*`, packages installed in the image)
 * stay imports, and so does the SDK's client module (see `_connect.ts`).
 */
export function bundleModule(
  entryUrl: string,
  externals: string[] = [],
  options: BundleOptions = {},
): Promise<Bundle> {
  const entryPath = decodeURIComponent(new URL(entryUrl).pathname);
  const key = JSON.stringify([entryPath, externals]);
  const running = inFlight.get(key);
  if (running) {
    running.started.then(options.onStarted);
    return running.bundle;
  }
  const started = Promise.withResolvers<void>();
  const bundle = cachedBundle(entryPath, externals, {
    fast: true,
    onStarted: () => started.resolve(),
  }).finally(() => {
    started.resolve();
    inFlight.delete(key);
  });
  inFlight.set(key, { bundle, started: started.promise });
  started.promise.then(options.onStarted);
  return bundle;
}

/**
 * Bundles under way, by entry and externals: a second ask shares the work (`nano-modal run`
 * starts one before the app's module loads; the app's run then asks for the same).
 */
const inFlight = new Map<string, { bundle: Promise<Bundle>; started: Promise<void> }>();

/** Options of {@linkcode bundleModule}. */
export interface BundleOptions {
  /**
   * Called once the rest of the work runs in another process (esbuild's or
   * `deno bundle`), or when there is none left (a cached bundle): the moment
   * to start other work on this thread. It may be called more than once (a
   * fast path that gave up, then another): only the first call counts.
   */
  onStarted?: () => void;
}

/** Whether a source map's source is a file of an npm package. */
const npmSource = (source: string) => source.includes("/npm/registry.npmjs.org/");

async function cachedBundle(
  entryPath: string,
  externals: string[],
  options: BundleOptions & { fast: boolean; trimNpm?: boolean },
): Promise<Bundle> {
  const settings = [CLIENT_EXTERNAL, ...externals, ...options.trimNpm ? ["(npm unmapped)"] : []];
  const cache = await BundleCache.open(entryPath, settings);
  const cached = await cache.lookup();
  if (cached) return options.onStarted?.(), cached;
  const fast = options.fast ? await esbuildBundle(entryPath, externals, options) : undefined;
  const { code, sources } = fast ?? await denoBundle(entryPath, externals, options);
  const bundle = { code, hash: await sha256Hex(code) };
  await cache.store(bundle, sources, entryPath);
  return bundle;
}

/** The SDK bundled on its own (once per SDK: it is cached like any bundle), for the fast path. */
let sdkBundle: Promise<string | undefined> | undefined;

/** Bundles with esbuild in this process (see `_fast_bundle.ts`), if the app is a case for it. */
async function esbuildBundle(
  entryPath: string,
  externals: string[],
  options: BundleOptions,
): Promise<{ code: Uint8Array; sources: string[] } | undefined> {
  if (!SHIPPED_SDK_URL.startsWith("file:")) return undefined;
  // Its map has no mappings into npm packages, so neither have those of the apps built on it.
  const sdkPath = new URL(SHIPPED_SDK_URL).pathname;
  const bundleSdk = () =>
    cachedBundle(sdkPath, [], { fast: false, trimNpm: true }).then(
      (b) => `${cacheDir()}/bundles/${b.hash}.js`,
      () => undefined,
    );
  let sdkBundlePath = await (sdkBundle ??= bundleSdk());
  // Looked for on each use, which also keeps it from the cache's pruning: a long
  // `run --watch` may outlive a file it found once.
  if (sdkBundlePath && !(await touchCached(sdkBundlePath))) {
    sdkBundlePath = await (sdkBundle = bundleSdk());
  }
  if (!sdkBundlePath) return undefined;
  const built = await fastBundle(entryPath, {
    externals,
    clientExternal: CLIENT_EXTERNAL,
    sdkBundlePath,
    onStarted: options.onStarted,
  });
  if (built === undefined) return undefined;
  // A linked bundle's map is absolute already.
  const map = built.sources
    ? { code: built.text, sources: built.sources }
    : absolutizeSourceMap(built.text, built.base);
  return { code: new TextEncoder().encode(map.code), sources: map.sources };
}

/** Runs `deno bundle`; returns the code and its source map's (absolute) sources. */
async function denoBundle(
  entryPath: string,
  externals: string[],
  options: BundleOptions & { trimNpm?: boolean },
): Promise<{ code: Uint8Array; sources: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-bundle-" });
  try {
    const out = `${dir}/bundle.js`;
    const entryDir = entryPath.slice(0, entryPath.lastIndexOf("/")) || "/";
    const importMap = await sdkImportMapFlags(entryDir, dir);
    const child = new Deno.Command(denoPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform=deno",
        "--keep-names",
        "--sourcemap=inline",
        ...importMap,
        ...[CLIENT_EXTERNAL, ...externals].map((e) => `--external=${e}`),
        "-o",
        out,
        entryPath,
      ],
      cwd: entryDir,
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    options.onStarted?.();
    const { code, stderr } = await child.output();
    if (code !== 0) {
      const detail = new TextDecoder().decode(stderr).split("\n").filter((l) =>
        l.trim() && !l.includes("experimental")
      ).slice(0, 3).join(" ");
      throw new InvalidError(`Cannot bundle ${entryPath}: ${detail || "deno bundle failed"}`);
    }
    const map = absolutizeSourceMap(
      await Deno.readTextFile(out),
      `file://${dir}/`,
      options.trimNpm ? { unmapped: npmSource } : {},
    );
    return { code: new TextEncoder().encode(map.code), sources: map.sources };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Rewrites the inline source map's relative `sources` against `base`, and
 * drops its copy of every source (`sourcesContent`): stack frames need only
 * the mappings, and a sandbox loading a bundle pays for every byte of its map
 * (the full map doubled the time `hello.ts`'s sandbox took to import it).
 * Mappings into sources `unmapped` names are dropped too (`_source_map_trim.ts`).
 */
export function absolutizeSourceMap(
  code: string,
  base: string,
  options: { unmapped?: (source: string) => boolean } = {},
): { code: string; sources: string[] } {
  const at = code.lastIndexOf(MAP_PREFIX);
  if (at < 0) return { code, sources: [] };
  const map = JSON.parse(atob(code.slice(at + MAP_PREFIX.length).trim()));
  map.sources = (map.sources as string[]).map((s) => new URL(s, base).href);
  delete map.sourcesContent;
  const unmapped = options.unmapped;
  if (unmapped) map.mappings = trimMappings(map.mappings, (i) => unmapped(map.sources[i]));
  const json = new TextEncoder().encode(JSON.stringify(map));
  let binary = "";
  for (let i = 0; i < json.length; i += 0x8000) {
    binary += String.fromCharCode(...json.subarray(i, i + 0x8000));
  }
  return { code: `${code.slice(0, at)}${MAP_PREFIX}${btoa(binary)}\n`, sources: map.sources };
}
