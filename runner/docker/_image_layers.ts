/**
 * Image definitions as workers receive them (`FunctionDef.image`, an
 * `ImageDef` message whose local files the client uploaded and replaced by
 * content hashes), their validation, and the Dockerfile that adds the layers
 * on top of a base image. The definition arrives from the network: every
 * string that reaches the Dockerfile is checked or quoted here.
 */
import type { ImageLayerSpec, ImageSpec } from "../image_spec.ts";
import { ImageBuildError } from "../errors.ts";
import { type TarEntry, withParents } from "./_tar.ts";

/** The base of an image: the first layer. */
export type BaseLayer = Extract<ImageLayerSpec, { case: "base" | "registry" }>;

/** A validated image definition. */
export interface ImageDefinition {
  /** The first layer. */
  base: BaseLayer;
  /** Layers after the base. */
  layers: ImageLayerSpec[];
}

/** Where `npmInstall` puts its package cache; containers use it as DENO_DIR. */
export const NPM_DENO_DIR = "/opt/nano-modal/deno";

const PACKAGE = /^[a-z0-9@][a-z0-9@/._+:=~<>^-]*$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HASH = /^[0-9a-f]{64}$/;
const REF = /^[a-z0-9][a-z0-9._\-/:@]*$/i;
const DENO_BASE: BaseLayer = { case: "base", value: "deno" };

/** Checks an image definition; an absent one is `Image.deno()`. */
export function parseImage(image: ImageSpec | undefined): ImageDefinition {
  if (!image) return { base: DENO_BASE, layers: [] };
  const [base, ...rest] = image.layers.map((l) => l.layer);
  if (!isBase(base)) {
    throw new ImageBuildError(
      "The image definition has no base: start from Image.deno() or Image.debianSlim()",
    );
  }
  rest.forEach((layer, i) => checkLayer(layer, i + 1));
  return { base, layers: rest };
}

function isBase(layer: ImageLayerSpec | undefined): layer is BaseLayer {
  if (layer?.case === "base") return layer.value === "deno" || layer.value === "debian-slim";
  return layer?.case === "registry" && REF.test(layer.value);
}

function checkLayer(layer: ImageLayerSpec, step: number): void {
  const bad = (what: string): never => {
    throw new ImageBuildError(`Image layer ${step} (${layer.case}) is invalid: ${what}`);
  };
  switch (layer.case) {
    case "apt":
    case "npm":
      if (!layer.value.packages.every((p) => PACKAGE.test(p))) {
        bad("package names must be plain names");
      }
      return;
    case "run":
      return;
    case "env":
      for (const k of Object.keys(layer.value.vars)) {
        if (!ENV_NAME.test(k)) bad(`"${k}" is not a variable name`);
      }
      return;
    case "file":
      checkRemotePath(layer.value.remotePath, bad);
      if (!HASH.test(layer.value.hash)) {
        bad(
          "the file was not uploaded: run the app with a nano-modal client that uploads local files",
        );
      }
      return;
    case "dir":
      checkRemotePath(layer.value.remotePath, bad);
      for (const f of layer.value.files) {
        if (
          !HASH.test(f.hash) || !f.path || f.path.split("/").some((p) => p === ".." || p === "")
        ) {
          bad(`bad file entry ${JSON.stringify(f.path)}`);
        }
      }
      return;
    default:
      bad("a base after the first layer, or an unknown layer kind");
  }
}

function checkRemotePath(path: string, bad: (what: string) => never): void {
  if (!path.startsWith("/") || /[\n\r$\\]/.test(path)) {
    bad(
      `the path in the image must be absolute and free of "$", "\\" and newlines, got ${
        JSON.stringify(path)
      }`,
    );
  }
}

/** A Dockerfile plus the files its build context must hold. */
export interface BuildPlan {
  dockerfile: string;
  /** Context files by context path, to fetch by content hash. */
  files: { contextPath: string; hash: string; mode: number }[];
  /** What each step does, for progress and errors ("apt-get install jq"). */
  steps: string[];
}

/** The Dockerfile that applies `layers` on top of the image `baseTag`. */
export function planLayers(baseTag: string, layers: ImageLayerSpec[]): BuildPlan {
  const lines = [`FROM ${baseTag}`];
  const steps = [`FROM ${baseTag}`];
  const files: BuildPlan["files"] = [];
  const add = (line: string, step = line) => {
    lines.push(line);
    steps.push(step);
  };
  layers.forEach((layer, i) => {
    switch (layer.case) {
      case "apt": {
        const install =
          `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${
            layer.value.packages.join(" ")
          } && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin`;
        add(
          `RUN ${JSON.stringify(["/bin/sh", "-c", install])}`,
          `aptInstall ${layer.value.packages.join(" ")}`,
        );
        break;
      }
      case "npm": {
        add(`ENV DENO_DIR=${NPM_DENO_DIR}`);
        // Exec form: works without a shell, so on Image.deno() too.
        const cache = [
          "deno",
          "cache",
          "--no-config",
          "--no-lock",
          ...layer.value.packages.map((p) => `npm:${p}`),
        ];
        add(`RUN ${JSON.stringify(cache)}`, `npmInstall ${layer.value.packages.join(" ")}`);
        break;
      }
      case "run":
        for (const command of layer.value.commands) {
          add(
            `RUN ${JSON.stringify(["/bin/sh", "-c", command])}`,
            `runCommands ${JSON.stringify(command)}`,
          );
        }
        break;
      case "env": {
        // A value with a newline cannot be written in a Dockerfile; containers still get it at start.
        const vars = Object.entries(layer.value.vars).filter(([, v]) => !/[\r\n]/.test(v));
        if (vars.length) {
          add(
            `ENV ${
              vars.map(([k, v]) => `${k}="${v.replace(/[\\"$]/g, (c) => `\\${c}`)}"`).join(" ")
            }`,
          );
        }
        break;
      }
      case "file":
        files.push({ contextPath: `l${i}/f`, hash: layer.value.hash, mode: layer.value.mode });
        add(
          `COPY ${JSON.stringify([`l${i}/f`, layer.value.remotePath])}`,
          `addLocalFile ${layer.value.remotePath}`,
        );
        break;
      case "dir":
        for (const f of layer.value.files) {
          files.push({ contextPath: `l${i}/${f.path}`, hash: f.hash, mode: f.mode });
        }
        if (layer.value.files.length) {
          const dir = `${layer.value.remotePath.replace(/\/+$/, "")}/`;
          add(`COPY ${JSON.stringify([`l${i}/`, dir])}`, `addLocalDir ${layer.value.remotePath}`);
        }
        break;
    }
  });
  return { dockerfile: `${lines.join("\n")}\n`, files, steps };
}

/** Tar entries for a plan's files, read from the fetched blobs (`blobPaths` by hash). */
export function contextEntries(plan: BuildPlan, blobPaths: Map<string, string>): TarEntry[] {
  const files = plan.files.map((f): TarEntry => ({
    name: f.contextPath,
    file: blobPaths.get(f.hash)!,
    mode: f.mode & 0o777,
  }));
  return withParents(files);
}
