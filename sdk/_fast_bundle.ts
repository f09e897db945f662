/**
 * The fast way to bundle an app whose imports are local files, `node:`
 * builtins, the SDK and the given externals: esbuild in this process (no
 * `deno` subprocess to start), with the SDK taken from a bundle of its own,
 * made once per SDK by `deno bundle` and cached like any bundle. For anything
 * else — `npm:`, `jsr:` or remote imports, bare names a deno.json maps
 * elsewhere than the SDK, compiler options — it returns undefined and
 * `deno bundle` does the whole job. Both write the same kind of module:
 * ESM, names kept, TC39 decorators compiled, an inline source map.
 *
 * esbuild's binary does it on its own first (`_fast_bundle_cli.ts`), which
 * costs this thread next to nothing; its JavaScript API, with the plugin
 * below, handles what the binary alone cannot (the SDK imported by path).
 */
import { SHIPPED_SDK_URL } from "../proto/sdk_import_map.ts";
import { LINKABLE_SDK_SUFFIX } from "../proto/bundle_format.ts";
import { denoConfigPath } from "../proto/sdk_import_map.ts";
import { cliBundle, esbuildBinary } from "./_fast_bundle_cli.ts";
import { LINK_SPECIFIER, type LinkableSdk, linkSdk, prepareSdk } from "./_sdk_link.ts";
import { writeAtomically } from "../proto/write_atomically.ts";

const ESBUILD_VERSION = "0.28.2";

type Esbuild = typeof import("npm:esbuild@0.28.2");
type Plugin = import("npm:esbuild@0.28.2").Plugin;

const SDK_PATH = SHIPPED_SDK_URL.startsWith("file:")
  ? decodeURIComponent(new URL(SHIPPED_SDK_URL).pathname)
  : undefined;
const SDK_DIR = SDK_PATH?.slice(0, SDK_PATH.lastIndexOf("/") + 1);
const SDK_NAMES = new Set(["@nano/modal", "jsr:@nano/modal"]);

/** Why the fast path gave up (the caller falls back to `deno bundle`). */
class NotFast extends Error {}

/** What a deno.json may hold for the fast path: imports of the SDK only, no compiler options. */
async function sdkOnlyConfig(entryDir: string): Promise<Record<string, string> | undefined> {
  const path = await denoConfigPath(entryDir);
  if (!path) return {};
  if (!path.endsWith(".json")) return undefined;
  const config = JSON.parse(await Deno.readTextFile(path));
  if (config.compilerOptions || config.importMap || config.scopes) return undefined;
  const imports: Record<string, string> = {};
  for (const [name, target] of Object.entries(config.imports ?? {})) {
    const url = new URL(String(target), `file://${path}`).href;
    if (url === SHIPPED_SDK_URL) imports[name] = url;
    else if (SDK_NAMES.has(name)) return undefined; // the user's own SDK: deno bundle follows it
  }
  return imports;
}

let esbuild: Promise<Esbuild> | undefined;
let running = 0;

/** A glob of `deno bundle --external` (`*` matches anything) as a RegExp. */
function externalPattern(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*");
  return new RegExp(`^${escaped}$`);
}

function resolver(options: FastBundleOptions, sdkImports: Record<string, string>): Plugin {
  const externals = options.externals.map(externalPattern);
  return {
    name: "nano-modal",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        const spec = args.path;
        if (spec.startsWith("node:") || spec === options.clientExternal) {
          return { path: spec, external: true };
        }
        if (externals.some((re) => re.test(spec))) return { path: spec, external: true };
        if (SDK_NAMES.has(spec) || sdkImports[spec]) return { path: options.sdkBundlePath };
        if (/^(\.{1,2}\/|\/|file:)/.test(spec)) {
          const url = new URL(spec, `file://${args.resolveDir}/`);
          const path = decodeURIComponent(url.pathname);
          if (url.href === SHIPPED_SDK_URL) return { path: options.sdkBundlePath };
          // Another SDK file by path would be a second copy of the SDK: leave that to deno bundle.
          if (SDK_DIR && path.startsWith(SDK_DIR)) throw new NotFast(spec);
          return { path };
        }
        throw new NotFast(spec); // npm:, jsr:, https:, bare names
      });
    },
  };
}

/**
 * The SDK's bundle at `path` ready to link, kept beside it (`<path>.link.json`) so that each
 * run reads it instead of preparing it again; undefined if it cannot be linked.
 */
async function linkableSdk(path: string): Promise<LinkableSdk | undefined> {
  const kept = `${path}${LINKABLE_SDK_SUFFIX}`;
  try {
    return JSON.parse(await Deno.readTextFile(kept));
  } catch {
    // Not prepared yet (or unreadable): prepare it now.
  }
  const sdk = prepareSdk(await Deno.readTextFile(path).catch(() => ""));
  if (!sdk) return undefined;
  await writeAtomically(kept, JSON.stringify(sdk)).catch(() => {});
  return sdk;
}

/** What {@linkcode fastBundle} needs. */
export interface FastBundleOptions {
  /** Packages that stay imports (`deno bundle --external` globs). */
  externals: string[];
  /** The SDK's client module, which stays an import. */
  clientExternal: string;
  /** The SDK bundled on its own (its exports, the client left out). */
  sdkBundlePath: string;
  /** Called once esbuild has the work (see `BundleOptions.onStarted`). */
  onStarted?: () => void;
}

/** Where esbuild's npm package is (a file: URL once Deno has it), or "" if unknown. */
function esbuildMain(): string {
  try {
    return import.meta.resolve("npm:esbuild@0.28.2");
  } catch {
    return "";
  }
}

/**
 * Bundles `entryPath` with esbuild; returns the code and the directory its
 * source map's `sources` are relative to, or undefined when it is not a case
 * for the fast path.
 */
export async function fastBundle(
  entryPath: string,
  options: FastBundleOptions,
): Promise<{ text: string; base: string; sources?: string[] } | undefined> {
  const entryDir = entryPath.slice(0, entryPath.lastIndexOf("/")) || "/";
  const sdkImports = await sdkOnlyConfig(entryDir).catch(() => undefined);
  if (!sdkImports || !SDK_PATH || !SDK_DIR) return undefined;
  const binary = await esbuildBinary(esbuildMain(), ESBUILD_VERSION);
  if (binary) {
    // onStarted may be called again below: callers take only its first call.
    const cli = { ...options, sdkNames: Object.keys(sdkImports), sdkDir: SDK_DIR };
    // esbuild reads the app alone, and the SDK's bundle is linked to it as text.
    const app = await cliBundle(binary, entryPath, { ...cli, sdkAlias: LINK_SPECIFIER })
      .catch(() => undefined);
    const sdk = app && await linkableSdk(options.sdkBundlePath);
    const linked = app && sdk && linkSdk(app.code, app.base, sdk);
    if (linked) return { text: linked.code, base: app.base, sources: linked.sources };
    const built = await cliBundle(binary, entryPath, cli).catch(() => undefined);
    if (built) return { text: built.code, base: built.base };
  }
  // Loaded only when a run bundles, pinned here like the other npm packages in their deps files.
  // deno-lint-ignore no-import-prefix
  esbuild ??= import("npm:esbuild@0.28.2");
  const build = await esbuild;
  running++;
  try {
    const building = build.build({
      entryPoints: [entryPath],
      outfile: `${entryDir}/bundle.js`,
      write: false,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022", // compiles TC39 decorators, which V8 does not run yet
      keepNames: true,
      sourcemap: "inline",
      sourcesContent: false,
      tsconfigRaw: "{}",
      logLevel: "silent",
      plugins: [resolver(options, sdkImports)],
    });
    options.onStarted?.();
    return { text: (await building).outputFiles[0].text, base: `file://${entryDir}/` };
  } catch {
    // Not a case for the fast path (NotFast), or esbuild's own complaint about
    // the code: either way deno bundle does it, and says it the way users know.
    return undefined;
  } finally {
    // The esbuild service is a child process: none may outlive the bundling.
    if (--running === 0) await build.stop();
  }
}
