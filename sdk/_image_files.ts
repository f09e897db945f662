/**
 * What an image definition becomes on the wire: an `ImageDef` message
 * (documented in `proto/nano_modal.proto`). `addLocalFile` and
 * `addLocalDir` name paths on the client's disk, which workers cannot see:
 * before an app starts, each file is uploaded once as a content-addressed
 * blob (hex SHA-256, through the bundle store) and the layer carries hashes. `npmInstall` packages stay out of the bundle (`--external`)
 * so the bundle imports the copies installed in the image.
 */
import { InvalidError } from "./errors.ts";
import type { Image, ImageLayer } from "./image.ts";
import { create, type MessageInitShape } from "../proto/deps.ts";
import {
  type ImageDef,
  ImageDefSchema,
  type ImageDirFile,
  type ImageLayer as WireLayer,
  ImageLayerSchema,
} from "../proto/messages.ts";
import { sha256Hex } from "../proto/content_hash.ts";

/** Stores `data` under its hash unless the server already has it. */
export type UploadBlob = (hash: string, data: Uint8Array) => Promise<void>;

/** Below the server's 64 MiB message limit, with room for the envelope. */
const MAX_FILE_BYTES = 60 * 1024 * 1024;

/**
 * The wire message of each image (by function name; one message per distinct
 * `Image`), uploading local files. Relative local paths are resolved from `cwd`.
 */
export async function imageDefinitions(
  images: Map<string, Image>,
  upload: UploadBlob,
  cwd: string = Deno.cwd(),
): Promise<Map<string, ImageDef>> {
  const uploads = new Map<string, Promise<void>>();
  const put = (hash: string, data: Uint8Array) => {
    if (!uploads.has(hash)) uploads.set(hash, upload(hash, data));
    return uploads.get(hash)!;
  };
  const done = new Map<Image, ImageDef>();
  const out = new Map<string, ImageDef>();
  for (const [name, image] of images) {
    let def = done.get(image);
    if (!def) {
      const layers: WireLayer[] = [];
      for (const layer of image.layers) layers.push(await wireLayer(layer, cwd, put));
      done.set(image, def = create(ImageDefSchema, { layers }));
    }
    out.set(name, def);
  }
  return out;
}

/** `--external` patterns for the packages of every `npmInstall` layer. */
export function npmExternals(images: Iterable<Image>): string[] {
  const names = new Set<string>();
  for (const image of images) {
    for (const layer of image.layers) {
      if (layer.kind === "npm") { for (const p of layer.packages) names.add(packageName(p)); }
    }
  }
  return [...names].sort().flatMap((n) => [`npm:${n}`, `npm:${n}@*`, `npm:${n}/*`]);
}

/** `"@scope/pkg@^1"` → `"@scope/pkg"`. */
function packageName(spec: string): string {
  const at = spec.indexOf("@", 1);
  return at < 0 ? spec : spec.slice(0, at);
}

async function wireLayer(layer: ImageLayer, cwd: string, put: UploadBlob): Promise<WireLayer> {
  if (layer.kind === "file") {
    const path = resolve(cwd, layer.localPath);
    const info = await statOrThrow("addLocalFile", layer.localPath, path);
    if (!info.isFile) {
      throw new InvalidError(
        `addLocalFile: ${layer.localPath} is not a file (${path}): use addLocalDir for directories`,
      );
    }
    const { hash, mode } = await uploadFile(path, "", info, put);
    return wire({ case: "file", value: { remotePath: layer.remotePath, hash, mode } });
  }
  if (layer.kind === "dir") {
    const root = resolve(cwd, layer.localPath);
    const info = await statOrThrow("addLocalDir", layer.localPath, root);
    if (!info.isDirectory) {
      throw new InvalidError(
        `addLocalDir: ${layer.localPath} is not a directory (${root}): use addLocalFile for files`,
      );
    }
    const files: Omit<ImageDirFile, "$typeName">[] = [];
    for (const rel of await listFiles(root, "")) {
      const path = `${root}/${rel}`;
      files.push(await uploadFile(path, rel, await Deno.stat(path), put));
    }
    return wire({ case: "dir", value: { remotePath: layer.remotePath, files } });
  }
  switch (layer.kind) {
    case "base":
      return wire({ case: "base", value: layer.base });
    case "registry":
      return wire({ case: "registry", value: layer.ref });
    case "apt":
    case "npm":
      return wire({ case: layer.kind, value: { packages: layer.packages } });
    case "run":
      return wire({ case: "run", value: { commands: layer.commands } });
    case "env":
      return wire({ case: "env", value: { vars: layer.vars } });
  }
}

function wire(layer: MessageInitShape<typeof ImageLayerSchema>["layer"]): WireLayer {
  return create(ImageLayerSchema, { layer });
}

async function uploadFile(
  path: string,
  rel: string,
  info: Deno.FileInfo,
  put: UploadBlob,
): Promise<Omit<ImageDirFile, "$typeName">> {
  if (info.size > MAX_FILE_BYTES) {
    throw new InvalidError(
      `${path} is ${(info.size / 2 ** 20).toFixed(0)} MiB: files added to an image must be under ${
        MAX_FILE_BYTES / 2 ** 20
      } MiB (install large data at build time with runCommands instead)`,
    );
  }
  const data = await Deno.readFile(path);
  const hash = await sha256Hex(data);
  await put(hash, data);
  return { path: rel, hash, mode: (info.mode ?? 0o644) & 0o777 };
}

/** Files under `root`, relative, sorted; symlinks to files are followed, to directories skipped (no cycles). */
async function listFiles(root: string, rel: string): Promise<string[]> {
  const entries: string[] = [];
  for await (const e of Deno.readDir(rel ? `${root}/${rel}` : root)) entries.push(e.name);
  const out: string[] = [];
  for (const name of entries.sort()) {
    const path = rel ? `${rel}/${name}` : name;
    const link = await Deno.lstat(`${root}/${path}`);
    if (link.isDirectory) out.push(...await listFiles(root, path));
    else if (
      link.isFile ||
      (link.isSymlink && (await Deno.stat(`${root}/${path}`).catch(() => null))?.isFile)
    ) out.push(path);
  }
  return out;
}

async function statOrThrow(method: string, given: string, path: string): Promise<Deno.FileInfo> {
  try {
    return await Deno.stat(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound ? "it does not exist" : (err as Error).message;
    throw new InvalidError(
      `${method}: cannot read ${given} (${path}): ${why}; relative paths start from the directory you run nano-modal in`,
    );
  }
}

function resolve(cwd: string, path: string): string {
  if (typeof path !== "string" || !path) {
    throw new InvalidError("addLocalFile/addLocalDir need a local path");
  }
  return path.startsWith("/") ? path : `${cwd.replace(/\/+$/, "")}/${path.replace(/^\.\//, "")}`;
}
