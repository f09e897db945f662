/**
 * What an app's bundle looks like where the SDK and the runner meet on it.
 *
 * A bundle linked to the SDK's (`sdk/_sdk_link.ts`) begins with the SDK's code
 * inside `const __nano_modal_sdk = await (async () => { ... })();`, on lines
 * of its own; {@linkcode SDK_END_MARK} follows that `})();` on its line. The
 * deno runner splits such a bundle there (`runner/_sdk_split.ts`), so that a
 * spare sandbox can load the SDK before it knows its app.
 * @module
 */

/** Follows the `})();` that ends the SDK's part of a linked bundle, on the same line. */
export const SDK_END_MARK = "/*nano-modal:sdk-end*/";

/** The name the SDK's part of a linked bundle goes by (`__nano_modal_sdk`). */
export const SDK_BINDING = "__nano_modal_sdk";

/** Where bundles keep their source map: the last line, inline. */
const MAP_PREFIX = "//# sourceMappingURL=data:application/json;base64,";

/**
 * What the SDK's own bundle, made ready to link by the SDK's bundler, is kept as beside it in
 * the cache (`<bundle>.js` + this): JSON whose `code` field is exactly the SDK part of every app
 * bundle linked to it (see `sdk/_sdk_link.ts`).
 */
export const LINKABLE_SDK_SUFFIX = ".link.json";

/** The file beside a split bundle that holds its SDK part. */
export const SDK_FILE = "sdk.js";

/** A linked bundle split in two (see {@linkcode splitBundle}). */
export interface SplitBundle {
  /** The SDK's part as it appears in the bundle: equal in every app linked to one SDK. */
  sdkPart: string;
  /** The app's part: imports the SDK's from `./sdk.js`; its lines keep their numbers. */
  app: string;
}

/**
 * Splits a bundle linked to the SDK at {@linkcode SDK_END_MARK}, or returns
 * undefined for any other bundle. The app's part keeps every line where it
 * was (the SDK's lines become empty ones), so its inline source map still
 * maps the app's frames; {@linkcode sdkModule} makes the SDK's part a module.
 */
export function splitBundle(text: string): SplitBundle | undefined {
  const end = text.indexOf(`\n})();${SDK_END_MARK}`);
  const firstLine = text.indexOf("\n");
  if (end < 0 || firstLine < 0 || end < firstLine) return undefined;
  if (!text.slice(0, firstLine).includes(`const ${SDK_BINDING} = await (async () => {`)) {
    return undefined;
  }
  const sdkPart = text.slice(0, end + "\n})();".length);
  let lines = 0;
  for (let at = text.indexOf("\n"); at >= 0 && at < end; at = text.indexOf("\n", at + 1)) lines++;
  const rest = text.slice(end + "\n})();".length + SDK_END_MARK.length);
  const app = `import { ${SDK_BINDING} } from "./${SDK_FILE}";${"\n".repeat(lines + 1)}${rest}`;
  return { sdkPart, app };
}

/**
 * The module `sdk.js` holds: the SDK's part of `bundle` exporting its
 * binding, with the source map of its own lines.
 */
export function sdkModule(bundle: string, sdkPart: string): string {
  const head = `const ${SDK_BINDING} = await (async () => {`;
  const code = sdkPart.replace(head, `export ${head}`);
  const at = bundle.lastIndexOf(MAP_PREFIX);
  if (at < 0) return `${code}\n`;
  try {
    const bytes = Uint8Array.from(
      atob(bundle.slice(at + MAP_PREFIX.length).trim()),
      (c) => c.charCodeAt(0),
    );
    const map = JSON.parse(new TextDecoder().decode(bytes));
    const lineCount = code.split("\n").length;
    const own = { ...map, mappings: String(map.mappings).split(";").slice(0, lineCount).join(";") };
    const json = new TextEncoder().encode(JSON.stringify(own));
    let binary = "";
    for (let i = 0; i < json.length; i += 0x8000) {
      binary += String.fromCharCode(...json.subarray(i, i + 0x8000));
    }
    return `${code}\n${MAP_PREFIX}${btoa(binary)}\n`;
  } catch {
    return `${code}\n`;
  }
}

/** The SDK's part that {@linkcode sdkModule} made `module` of (as {@linkcode splitBundle} gives it). */
export function sdkPartOf(module: string): string | undefined {
  const head = `const ${SDK_BINDING} = await (async () => {`;
  const mapAt = module.lastIndexOf(`\n${MAP_PREFIX}`);
  const code = mapAt >= 0 ? module.slice(0, mapAt) : module.replace(/\n$/, "");
  if (!code.endsWith("\n})();") || !code.includes(`export ${head}`)) return undefined;
  return code.replace(`export ${head}`, head);
}
