/**
 * Volumes: named, persistent file trees that functions mount at a path, and
 * that any script can read and write.
 * @module
 */
import { InvalidError } from "./errors.ts";
import { runtime } from "./_runtime.ts";
import { loadSessionModule } from "./_connect.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Options for {@linkcode Volume.fromName}. */
export interface VolumeFromNameOptions {
  /** Create the volume when the app starts (or on first use) if it does not exist. @default false */
  createIfMissing?: boolean;
}

/** One entry of {@linkcode Volume.readDir}. */
export interface VolumeDirEntry {
  /** The entry's name within its directory. */
  name: string;
  /** Its path from the volume root. */
  path: string;
  /** A file (otherwise a directory). */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
  /** Bytes of a file; 0 for a directory. */
  size: number;
  /** When a file was last written, in ms since the epoch. */
  mtimeMs: number;
}

/**
 * A named volume.
 *
 * @example
 * ```ts
 * import { Volume } from "./volume.ts";
 * const cache = Volume.fromName("cache", { createIfMissing: true });
 * console.log(cache.name); // cache
 * ```
 */
export class Volume {
  /** The volume's name. */
  readonly name: string;
  /** Whether it is created when missing. */
  readonly createIfMissing: boolean;

  private constructor(name: string, createIfMissing: boolean) {
    this.name = name;
    this.createIfMissing = createIfMissing;
  }

  /**
   * A volume by name (resolved lazily, when an app starts or a method is called).
   * @param name letters, digits, `.`, `_` and `-`, up to 64 characters
   */
  static fromName(name: string, options: VolumeFromNameOptions = {}): Volume {
    if (typeof name !== "string" || !NAME.test(name)) {
      throw new InvalidError(
        `Volume name ${
          JSON.stringify(name)
        } is not valid: use letters, digits, ".", "_" and "-" (up to 64 characters)`,
      );
    }
    return new Volume(name, options.createIfMissing === true);
  }

  #inContainer(what: string): NonNullable<ReturnType<typeof runtime>["volumeOp"]> {
    const rt = runtime();
    if (rt.mode !== "container" || !rt.volumeOp) {
      throw new InvalidError(
        `Volume("${this.name}").${what}() works inside a function that mounts the volume: use readFile/writeFile outside functions`,
      );
    }
    return rt.volumeOp;
  }

  /** Publishes this container's changes under the mount path, atomically. */
  async commit(): Promise<void> {
    await this.#inContainer("commit")("commit", this.name);
  }

  /** Takes in what other containers committed (commit your own changes first). */
  async reload(): Promise<void> {
    await this.#inContainer("reload")("reload", this.name);
  }

  async #client() {
    if (runtime().mode === "container") {
      throw new InvalidError(
        `Inside a function, use ordinary file APIs under the volume's mount path rather than Volume("${this.name}") methods`,
      );
    }
    // Through the session module, which stays out of user bundles (see _connect.ts).
    const { volumeHandle } = await loadSessionModule();
    return volumeHandle(this.name, this.createIfMissing);
  }

  /** Reads a file; `path` is relative to the volume root (a leading `/` is allowed). */
  async readFile(path: string): Promise<Uint8Array> {
    return (await this.#client()).readFile(path);
  }

  /** Writes a file (creating its directories), committed at once. */
  async writeFile(path: string, data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    await (await this.#client()).writeFile(path, bytes);
  }

  /** Lists a directory. @param path @default "/" */
  async readDir(path = "/"): Promise<VolumeDirEntry[]> {
    return (await this.#client()).readDir(path);
  }

  /** Removes a file, or a directory with everything in it. */
  async remove(path: string): Promise<void> {
    await (await this.#client()).remove(path);
  }
}
