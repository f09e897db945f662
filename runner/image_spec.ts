/**
 * A function's image as runners read it: the wire's `ImageDef` message,
 * named structurally (like `FunctionSpec` in `runner.ts`) so that protobuf's
 * types stay out of the runner seam.
 * @module
 */

/** An image: its layers are documented with `ImageDef` in `proto/nano_modal.proto`. */
export interface ImageSpec {
  /** The base first, then the other layers in order. */
  readonly layers: readonly { readonly layer: ImageLayerSpec }[];
}

/** One image layer: which kind it is (`case`) and what it holds (`value`). */
export type ImageLayerSpec =
  | { readonly case: "base" | "registry"; readonly value: string }
  | { readonly case: "apt" | "npm"; readonly value: { readonly packages: readonly string[] } }
  | { readonly case: "run"; readonly value: { readonly commands: readonly string[] } }
  | { readonly case: "env"; readonly value: { readonly vars: Readonly<Record<string, string>> } }
  | { readonly case: "file"; readonly value: ImageFileSpec & { readonly remotePath: string } }
  | {
    readonly case: "dir";
    readonly value: { readonly remotePath: string; readonly files: readonly ImageFileSpec[] };
  }
  | { readonly case: undefined; readonly value?: undefined };

/** A file an image adds: its path (relative, in a directory), content hash and mode. */
export interface ImageFileSpec {
  /** Relative path within a directory layer (unset for a file layer). */
  readonly path?: string;
  /** Hex SHA-256 of its content. */
  readonly hash: string;
  /** Unix permission bits. */
  readonly mode: number;
}

/** The first image option the deno runner cannot honour, as the user wrote it; or none. */
export function unhonouredImage(def: { readonly image?: ImageSpec }): string | undefined {
  for (const { layer } of def.image?.layers ?? []) {
    switch (layer.case) {
      case "base":
        if (layer.value !== "deno") return "Image.debianSlim()";
        break;
      case "registry":
        return `Image.fromRegistry(${JSON.stringify(layer.value)})`;
      case "apt":
        return "aptInstall";
      case "run":
        return "runCommands";
      case "file":
        return "addLocalFile";
      case "dir":
        return "addLocalDir";
    }
  }
  return undefined;
}

/** Environment variables declared by the function's image (`Image.env`). */
export function imageEnv(def: { readonly image?: ImageSpec }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { layer } of def.image?.layers ?? []) {
    if (layer.case === "env") Object.assign(env, layer.value.vars);
  }
  return env;
}
