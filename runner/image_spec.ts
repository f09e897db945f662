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
