/**
 * Container images declared in code. An image is an immutable chain of
 * layers; each method returns a new image. Its identity is the hash of its
 * definition, so a worker builds it once and reuses it.
 * @module
 */
import { InvalidError } from "./errors.ts";

/**
 * One step of an image definition, as sent to workers.
 *
 * @example
 * ```ts
 * import { Image, type ImageLayer } from "@nano/modal";
 * const layers: readonly ImageLayer[] = Image.deno().env({ MODE: "prod" }).layers;
 * console.log(layers.length);
 * ```
 */
export type ImageLayer =
  | { kind: "base"; base: "deno" | "debian-slim" }
  | { kind: "registry"; ref: string }
  | { kind: "apt"; packages: string[] }
  | { kind: "npm"; packages: string[] }
  | { kind: "run"; commands: string[] }
  | { kind: "env"; vars: Record<string, string> }
  | { kind: "file"; localPath: string; remotePath: string }
  | { kind: "dir"; localPath: string; remotePath: string };

const PACKAGE_NAME = /^[a-z0-9@][a-z0-9@/._+:=~<>^-]*$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A container image for remote functions.
 *
 * @example
 * ```ts
 * import { Image } from "@nano/modal";
 * const image = Image.debianSlim().aptInstall("jq").env({ MODE: "prod" });
 * console.log(image.layers.length); // 3
 * ```
 */
export class Image {
  /** The layers, base first. */
  readonly layers: readonly ImageLayer[];

  private constructor(layers: readonly ImageLayer[]) {
    this.layers = layers;
  }

  /** The default: a minimal image holding only the Deno runtime. */
  static deno(): Image {
    return new Image([{ kind: "base", base: "deno" }]);
  }

  /** Debian (bookworm, minimal) with Deno; needed for {@linkcode Image.aptInstall}. */
  static debianSlim(): Image {
    return new Image([{ kind: "base", base: "debian-slim" }]);
  }

  /**
   * An image from a registry, for workers that can reach one. Deno must be on
   * its PATH or is added from the worker's own binary.
   * @param ref an image reference such as `"debian:bookworm-slim"`
   */
  static fromRegistry(ref: string): Image {
    if (typeof ref !== "string" || !/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(ref)) {
      throw new InvalidError(
        `Image.fromRegistry(${
          JSON.stringify(ref)
        }): not an image reference like "debian:bookworm-slim"`,
      );
    }
    return new Image([{ kind: "registry", ref }]);
  }

  /** Installs Debian packages with apt (needs a Debian base). */
  aptInstall(...packages: string[]): Image {
    if (!this.#isDebian()) {
      throw new InvalidError("aptInstall needs a Debian base: start from Image.debianSlim()");
    }
    return this.#add({ kind: "apt", packages: checkPackages("aptInstall", packages) });
  }

  /**
   * Installs npm packages into the image, for native addons and binaries that
   * cannot be bundled; pure-JS dependencies are already in your bundle.
   */
  npmInstall(...packages: string[]): Image {
    return this.#add({ kind: "npm", packages: checkPackages("npmInstall", packages) });
  }

  /** Runs shell commands at build time (needs a Debian or registry base). */
  runCommands(...commands: string[]): Image {
    if (commands.length === 0 || commands.some((c) => typeof c !== "string" || !c.trim())) {
      throw new InvalidError("runCommands needs one or more non-empty command strings");
    }
    if (this.layers[0].kind === "base" && this.layers[0].base === "deno") {
      throw new InvalidError("runCommands needs a shell: start from Image.debianSlim()");
    }
    return this.#add({ kind: "run", commands });
  }

  /** Sets environment variables in the image. */
  env(vars: Record<string, string>): Image {
    for (const [k, v] of Object.entries(vars ?? {})) {
      if (!ENV_NAME.test(k)) throw new InvalidError(`env: "${k}" is not a valid variable name`);
      if (typeof v !== "string") throw new InvalidError(`env: the value of ${k} must be a string`);
    }
    return this.#add({ kind: "env", vars: { ...vars } });
  }

  /** Copies a local file into the image at `remotePath` (absolute). */
  addLocalFile(localPath: string, remotePath: string): Image {
    return this.#add({ kind: "file", localPath, remotePath: checkRemotePath(remotePath) });
  }

  /** Copies a local directory into the image at `remotePath` (absolute). */
  addLocalDir(localPath: string, remotePath: string): Image {
    return this.#add({ kind: "dir", localPath, remotePath: checkRemotePath(remotePath) });
  }

  /** The definition as canonical JSON (what identifies the image). */
  toJSON(): { layers: readonly ImageLayer[] } {
    return { layers: this.layers };
  }

  #isDebian(): boolean {
    const base = this.layers[0];
    return base.kind === "registry" || (base.kind === "base" && base.base === "debian-slim");
  }

  #add(layer: ImageLayer): Image {
    return new Image([...this.layers, layer]);
  }
}

function checkPackages(method: string, packages: string[]): string[] {
  if (packages.length === 0) throw new InvalidError(`${method} needs at least one package name`);
  for (const p of packages) {
    if (typeof p !== "string" || !PACKAGE_NAME.test(p)) {
      throw new InvalidError(`${method}: ${JSON.stringify(p)} is not a package name`);
    }
  }
  return [...packages];
}

function checkRemotePath(path: string): string {
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new InvalidError(`The path in the image must be absolute, got ${JSON.stringify(path)}`);
  }
  return path;
}
