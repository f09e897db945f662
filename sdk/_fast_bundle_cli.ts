/**
 * The fastest way to bundle an app that is a case for `_fast_bundle.ts`:
 * esbuild's own binary, run as a plain subprocess with flags, instead of
 * esbuild's JavaScript API. That API costs the calling thread ~100 ms per
 * run (it loads Node's child_process and streams through Deno's Node
 * compatibility layer, checks the binary's version with a blocking spawn,
 * and talks to esbuild over stdio), on the thread that also starts the
 * embedded control plane; the binary alone takes ~30 ms, beside it.
 *
 * Without plugins, the resolution the API's plugin does is checked after the
 * build instead, from esbuild's metafile: the SDK's names are aliases of the
 * SDK bundle, every package import stays external, and the build counts only
 * if each external import is a `node:` builtin, the SDK's client module or one
 * of the given externals, and no input is a file of the SDK itself (a second
 * copy). Anything else returns undefined, and the caller goes on to the API's
 * path (which handles the SDK imported by path) or to `deno bundle`.
 */

/** What {@linkcode cliBundle} needs. */
export interface CliBundleOptions {
  /** Packages that stay imports (`deno bundle --external` globs). */
  externals: string[];
  /** The SDK's client module, which stays an import. */
  clientExternal: string;
  /** The SDK bundled on its own. */
  sdkBundlePath: string;
  /**
   * What the SDK's names stand for: the SDK bundle's path (inlined; the default), or a bare
   * name left as an import for `_sdk_link.ts` to link.
   */
  sdkAlias?: string;
  /** Bare names (from a deno.json) that mean the SDK, besides `@nano/modal`. */
  sdkNames: string[];
  /** The SDK's folder: no file of it may be an input. */
  sdkDir: string;
  /** Called once esbuild has the work. */
  onStarted?: () => void;
}

/** esbuild's package for this platform, as npm names it, or undefined. */
function platformPackage(): string | undefined {
  const os = { linux: "linux", darwin: "darwin", freebsd: "freebsd" }[Deno.build.os as string];
  const arch = { x86_64: "x64", aarch64: "arm64" }[Deno.build.arch as string];
  return os && arch ? `@esbuild/${os}-${arch}` : undefined;
}

let binary: Promise<string | undefined> | undefined;

/**
 * esbuild's binary beside `mainUrl` (the file: URL esbuild's npm package
 * resolves to), in Deno's npm cache or a node_modules folder; undefined if
 * it is not there.
 */
export function esbuildBinary(mainUrl: string, version: string): Promise<string | undefined> {
  return binary ??= (async () => {
    const fromEnv = Deno.env.get("ESBUILD_BINARY_PATH");
    if (fromEnv) return fromEnv;
    const pkg = platformPackage();
    if (!pkg || !mainUrl.startsWith("file:")) return undefined;
    const main = decodeURIComponent(new URL(mainUrl).pathname);
    const candidates = [
      // Deno's npm cache: <registry>/esbuild/<version>/lib/main.js
      main.replace(
        new RegExp(`/esbuild/${version}/lib/main\\.js$`),
        `/${pkg}/${version}/bin/esbuild`,
      ),
      // A node_modules folder: .../node_modules/esbuild/lib/main.js
      main.replace(/\/esbuild\/lib\/main\.js$/, `/${pkg}/bin/esbuild`),
    ].filter((p) => p !== main);
    for (const path of candidates) {
      try {
        if ((await Deno.stat(path)).isFile) return path;
      } catch {
        // Not this layout.
      }
    }
    return undefined;
  })();
}

/** A glob of `deno bundle --external` (`*` matches anything) as a RegExp. */
function externalPattern(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*");
  return new RegExp(`^${escaped}$`);
}

/** A valid esbuild alias name: a package name (optionally scoped), nothing else. */
const PACKAGE_NAME = /^(@[\w.-]+\/)?[\w.-]+$/;

/**
 * Bundles `entryPath` with the esbuild binary at `esbuild`; returns the code
 * with its inline source map and the directory its `sources` are relative
 * to, or undefined when the app is not a case for it.
 */
export async function cliBundle(
  esbuild: string,
  entryPath: string,
  options: CliBundleOptions,
): Promise<{ code: string; base: string } | undefined> {
  const names = ["@nano/modal", ...options.sdkNames].filter((n) => PACKAGE_NAME.test(n));
  const sdkAlias = options.sdkAlias ?? options.sdkBundlePath;
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-esbuild-" });
  try {
    const child = new Deno.Command(esbuild, {
      args: [
        entryPath,
        "--bundle",
        "--format=esm",
        "--platform=neutral",
        "--target=es2022", // compiles TC39 decorators, which V8 does not run yet
        "--keep-names",
        "--sourcemap=inline",
        "--sources-content=false",
        "--tsconfig-raw={}",
        "--log-level=silent",
        "--packages=external",
        "--external:node:*",
        `--external:${options.clientExternal}`,
        ...options.externals.map((e) => `--external:${e}`),
        ...[...new Set(names)].map((n) => `--alias:${n}=${sdkAlias}`),
        `--outfile=${dir}/bundle.js`,
        `--metafile=${dir}/meta.json`,
      ],
      cwd: dir,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    options.onStarted?.();
    if (!(await child.status).success) return undefined;
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/meta.json`)) as {
      inputs: Record<string, unknown>;
      outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
    };
    const externals = options.externals.map(externalPattern);
    const allowed = (path: string) =>
      path.startsWith("node:") || path === options.clientExternal || path === sdkAlias ||
      externals.some((re) => re.test(path));
    for (const out of Object.values(meta.outputs)) {
      if (out.imports.some((i) => i.external && !allowed(i.path))) return undefined;
    }
    for (const input of Object.keys(meta.inputs)) {
      const path = decodeURIComponent(new URL(input, `file://${dir}/`).pathname);
      if (path.startsWith(options.sdkDir)) return undefined;
    }
    return { code: await Deno.readTextFile(`${dir}/bundle.js`), base: `file://${dir}/` };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
