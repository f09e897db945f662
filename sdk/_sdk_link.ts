/**
 * Links an app's own code to the SDK's bundle as text, so that esbuild reads
 * only the app: given the SDK bundle to inline, esbuild parsed and printed its
 * ~230 KB and chained its source map on every run (~35-45 ms of a fresh
 * `hello.ts`'s ~50 ms bundling, on the way to its first call).
 *
 * The result is the same kind of module as esbuild's: one ES module with an
 * inline source map. The SDK's code runs inside a function of its own, so
 * none of its top-level names can meet the app's; its `node:` imports move to
 * the first line under names of their own; its exports become the object the
 * app's imports of the SDK (left external by esbuild under
 * {@linkcode LINK_SPECIFIER}) are read from. Line numbers are kept, so the
 * SDK's mappings are reused as they are, one line down, and the app's follow
 * them. Anything of an unexpected shape returns undefined: the caller then
 * lets esbuild inline the SDK as before.
 */
import { rewriteMappings } from "./_vlq.ts";
import { SDK_BINDING, SDK_END_MARK } from "../proto/bundle_format.ts";

/** What esbuild leaves as the app's import of the SDK (an alias of the SDK's names). */
export const LINK_SPECIFIER = "nano-modal-sdk-link";

const MAP_PREFIX = "//# sourceMappingURL=data:application/json;base64,";
const SDK = SDK_BINDING;

interface SourceMap {
  version: 3;
  sources: string[];
  names: string[];
  mappings: string;
}

/** A bundle's code (without its map comment) and map; undefined without an inline map. */
function split(text: string): { code: string; map: SourceMap } | undefined {
  const at = text.lastIndexOf(MAP_PREFIX);
  if (at < 0) return undefined;
  const bytes = Uint8Array.from(
    atob(text.slice(at + MAP_PREFIX.length).trim()),
    (c) => c.charCodeAt(0),
  );
  const map = JSON.parse(new TextDecoder().decode(bytes)) as SourceMap;
  return { code: text.slice(0, at), map };
}

/** `{ a, b as c }` -> [["a", "a"], ["b", "c"]] (imported, local); undefined if not that shape. */
function namedList(list: string): [string, string][] | undefined {
  const pairs: [string, string][] = [];
  for (const item of list.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([\w$]+)(?:\s+as\s+([\w$]+))?$/.exec(item);
    if (!m) return undefined;
    pairs.push([m[1], m[2] ?? m[1]]);
  }
  return pairs;
}

/** The SDK bundle as a function's body: its first line, its lines, its exports. */
function wrapSdk(code: string): { head: string; lines: string[] } | undefined {
  const lines = code.split("\n");
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  const hoisted: string[] = [];
  const locals: string[] = [];
  let n = 0;
  let exportAt = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("export ")) {
      if (line !== "export {" || exportAt >= 0) return undefined;
      exportAt = i;
      continue;
    }
    if (!line.startsWith("import ")) continue;
    const named = /^import \{([^}]*)\} from ("node:[\w/]+");$/.exec(line);
    const star = /^import \* as ([\w$]+) from ("node:[\w/]+");$/.exec(line);
    if (named) {
      const pairs = namedList(named[1]);
      if (!pairs) return undefined;
      const aliases = pairs.map(([imported, local]) => {
        const alias = `${SDK}_${n++}`;
        locals.push(`${local} = ${alias}`);
        return `${imported} as ${alias}`;
      });
      hoisted.push(`import { ${aliases.join(", ")} } from ${named[2]};`);
    } else if (star) {
      const alias = `${SDK}_${n++}`;
      locals.push(`${star[1]} = ${alias}`);
      hoisted.push(`import * as ${alias} from ${star[2]};`);
    } else {
      return undefined;
    }
    lines[i] = "";
  }
  if (exportAt < 0 || lines[lines.length - 1] !== "};") return undefined;
  const pairs = namedList(lines.slice(exportAt + 1, -1).join(" "));
  if (!pairs) return undefined;
  const fields = pairs.map(([local, exported]) => `${exported}: ${local}`).join(", ");
  for (let i = exportAt; i < lines.length; i++) lines[i] = "";
  lines[exportAt] = `return { ${fields} };`;
  lines.push("})();");
  const declare = locals.length ? ` const ${locals.join(", ")};` : "";
  return { head: `${hoisted.join(" ")} const ${SDK} = await (async () => {${declare}`, lines };
}

/** The app's imports of the SDK, rewritten to read {@linkcode SDK}; undefined if not all can be. */
function relinkApp(code: string): { code: string; reads: string[] } | undefined {
  const lines = code.split("\n");
  const reads: string[] = [];
  const quoted = `"${LINK_SPECIFIER}"`;
  let found = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.includes(quoted)) continue;
    const named = /^import \{([^}]*)\} from "[^"]+";$/.exec(line);
    const star = /^import \* as ([\w$]+) from "[^"]+";$/.exec(line);
    const bare = /^import "[^"]+";$/.exec(line);
    if (named) {
      const pairs = namedList(named[1]);
      if (!pairs) return undefined;
      reads.push(
        `const { ${pairs.map(([a, b]) => a === b ? a : `${a}: ${b}`).join(", ")} } = ${SDK};`,
      );
    } else if (star) {
      reads.push(`const ${star[1]} = ${SDK};`);
    } else if (!bare) {
      return undefined;
    }
    found++;
    lines[i] = "";
  }
  // Any other mention (a re-export, a dynamic import) is not a case for linking.
  if (code.split(quoted).length - 1 !== found) return undefined;
  return { code: lines.join("\n"), reads };
}

/** The SDK's bundle made ready to link ({@linkcode prepareSdk}), as kept on disk beside it. */
export interface LinkableSdk {
  /** Its code as a function's body, after a head line; its last line ends the function. */
  code: string;
  /** Its mappings, one group per line of `code`. */
  mappings: string;
  /** The running fields 1-4 where its mappings end. */
  end: number[];
  sources: string[];
  names: string[];
}

/** `sdk` (the SDK bundle's text, an inline map of absolute sources) ready to link, if it can be. */
export function prepareSdk(sdk: string): LinkableSdk | undefined {
  const s = split(sdk);
  const wrapped = s && wrapSdk(s.code);
  if (!s || !wrapped) return undefined;
  const { head, lines } = wrapped;
  // Its mappings one line down (the head), then one group for each line of its code.
  const groups = s.map.mappings.split(";");
  while (groups.length > lines.length && groups[groups.length - 1] === "") groups.pop();
  if (groups.length > lines.length) return undefined;
  return {
    code: `${head}\n${lines.join("\n")}`,
    mappings: ["", ...groups, ...Array(lines.length - groups.length).fill("")].join(";"),
    end: rewriteMappings(s.map.mappings, (abs) => abs).end,
    sources: s.map.sources,
    names: s.map.names,
  };
}

/**
 * Links `app` (esbuild's output, the SDK left external as {@linkcode LINK_SPECIFIER}, with an
 * inline map whose sources are relative to `base`) to `sdk`; returns one module with an inline
 * map and that map's (absolute) sources, or undefined if the app is not of the expected shape.
 */
export function linkSdk(
  app: string,
  base: string,
  sdk: LinkableSdk,
): { code: string; sources: string[] } | undefined {
  const a = split(app);
  const relinked = a && relinkApp(a.code);
  if (!a || !relinked) return undefined;
  const sources = sdk.sources.length, names = sdk.names.length;
  const appMappings = rewriteMappings(a.map.mappings, (abs) => {
    const out = [...abs];
    if (out.length > 1) out[1] += sources;
    if (out.length > 4) out[4] += names;
    return out;
  }, sdk.end).mappings;
  const map: SourceMap = {
    version: 3,
    sources: [...sdk.sources, ...a.map.sources.map((src) => new URL(src, base).href)],
    names: [...sdk.names, ...a.map.names],
    mappings: `${sdk.mappings};${appMappings}`,
  };
  const json = new TextEncoder().encode(JSON.stringify(map));
  let binary = "";
  for (let i = 0; i < json.length; i += 0x8000) {
    binary += String.fromCharCode(...json.subarray(i, i + 0x8000));
  }
  // The app's reads of the SDK end the SDK's last line: before any of the app's code runs. The
  // mark between says where the SDK's part ends (a runner may load that part on its own).
  const code = `${sdk.code}${SDK_END_MARK} ${relinked.reads.join(" ")}\n${relinked.code}`;
  const text = `${code}${code.endsWith("\n") ? "" : "\n"}${MAP_PREFIX}${btoa(binary)}\n`;
  return { code: text, sources: map.sources };
}
