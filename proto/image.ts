/**
 * Image definitions as they cross the wire (`FunctionDef.image_json`): the
 * SDK's layers with local files replaced by uploaded content hashes. The SDK
 * produces them; workers build images from them.
 * @module
 */

/** A file to put into an image: its path (relative, in a directory layer), content hash and mode. */
export interface WireFile {
  /** Path of the file (relative to the layer's directory, in a directory layer). */
  path: string;
  /** Hex SHA-256 of its content. */
  hash: string;
  /** Unix permission bits. */
  mode: number;
}

/** One layer of an image definition, as sent to workers. */
export type WireLayer =
  | { kind: "base"; base: "deno" | "debian-slim" }
  | { kind: "registry"; ref: string }
  | { kind: "apt"; packages: string[] }
  | { kind: "npm"; packages: string[] }
  | { kind: "run"; commands: string[] }
  | { kind: "env"; vars: Record<string, string> }
  | { kind: "file"; remotePath: string; hash: string; mode: number }
  | { kind: "dir"; remotePath: string; files: WireFile[] };
