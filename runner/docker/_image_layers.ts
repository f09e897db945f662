/**
 * Image definitions as workers receive them (`FunctionDef.imageJson`, after
 * the client uploaded local files and replaced them by content hashes), their
 * validation, and the Dockerfile that adds the layers on top of a base image.
 * The definition arrives from the network: every string that reaches the
 * Dockerfile is checked or quoted here.
 */
import type { WireLayer } from "../../proto/image.ts";
import { ImageBuildError } from "../errors.ts";
import { type TarEntry, withParents } from "./_tar.ts";

/** The base of an image: the first layer. */
export type BaseLayer = Extract<WireLayer, { kind: "base" | "registry" }>;

/** A validated image definition. */
export interface ImageDefinition {
  base: BaseLayer;
  /** Layers after the base. */
  layers: WireLayer[];
}

/** Where `npmInstall` puts its package cache; containers use it as DENO_DIR. */
export const NPM_DENO_DIR = "/opt/nano-modal/deno";

const PACKAGE = /^[a-z0-9@][a-z0-9@/._+:=~<>^-]*$/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HASH = /^[0-9a-f]{64}$/;
const REF = /^[a-z0-9][a-z0-9._\-/:@]*$/i;

/** Parses and checks `imageJson`; an empty one is `Image.deno()`. */
export function parseImage(imageJson: string): ImageDefinition {
  let raw: { layers?: unknown };
  try {
    raw = JSON.parse(imageJson || '{"layers":[{"kind":"base","base":"deno"}]}');
  } catch {
    throw new ImageBuildError(
      "The image definition is not valid JSON: update the nano-modal client",
    );
  }
  const layers = Array.isArray(raw?.layers) ? raw.layers as WireLayer[] : [];
  const [base, ...rest] = layers;
  if (!isBase(base)) {
    throw new ImageBuildError(
      "The image definition has no base: start from Image.deno() or Image.debianSlim()",
    );
  }
  rest.forEach((layer, i) => checkLayer(layer, i + 1));
  return { base, layers: rest };
}

function isBase(layer: WireLayer | undefined): layer is BaseLayer {
  if (layer?.kind === "base") return layer.base === "deno" || layer.base === "debian-slim";
  return layer?.kind === "registry" && typeof layer.ref === "string" && REF.test(layer.ref);
}

function checkLayer(layer: WireLayer, step: number): void {
  const bad = (what: string): never => {
    throw new ImageBuildError(`Image layer ${step} (${layer?.kind}) is invalid: ${what}`);
  };
  switch (layer?.kind) {
    case "apt":
    case "npm":
      if (
        !Array.isArray(layer.packages) ||
        !layer.packages.every((p) => typeof p === "string" && PACKAGE.test(p))
      ) {
        bad("package names must be plain names");
      }
      return;
    case "run":
      if (!Array.isArray(layer.commands) || !layer.commands.every((c) => typeof c === "string")) {
        bad("commands must be strings");
      }
      return;
    case "env":
      for (const [k, v] of Object.entries(layer.vars ?? {})) {
        if (!ENV_NAME.test(k) || typeof v !== "string") {
          bad(`"${k}" is not a variable name with a string value`);
        }
      }
      return;
    case "file":
      checkRemotePath(layer.remotePath, bad);
      if (!HASH.test(layer.hash)) {
        bad(
          "the file was not uploaded: run the app with a nano-modal client that uploads local files",
        );
      }
      return;
    case "dir":
      checkRemotePath(layer.remotePath, bad);
      if (!Array.isArray(layer.files)) bad("the directory was not uploaded");
      for (const f of layer.files) {
        if (
          !HASH.test(f?.hash) || typeof f.path !== "string" ||
          f.path.split("/").some((p) => p === ".." || p === "")
        ) {
          bad(`bad file entry ${JSON.stringify(f?.path)}`);
        }
      }
      return;
    default:
      bad("unknown layer kind");
  }
}

function checkRemotePath(path: unknown, bad: (what: string) => never): void {
  if (typeof path !== "string" || !path.startsWith("/") || /[\n\r$\\]/.test(path)) {
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
export function planLayers(baseTag: string, layers: WireLayer[]): BuildPlan {
  const lines = [`FROM ${baseTag}`];
  const steps = [`FROM ${baseTag}`];
  const files: BuildPlan["files"] = [];
  const add = (line: string, step = line) => {
    lines.push(line);
    steps.push(step);
  };
  layers.forEach((layer, i) => {
    switch (layer.kind) {
      case "apt": {
        const install =
          `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${
            layer.packages.join(" ")
          } && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin`;
        add(
          `RUN ${JSON.stringify(["/bin/sh", "-c", install])}`,
          `aptInstall ${layer.packages.join(" ")}`,
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
          ...layer.packages.map((p) => `npm:${p}`),
        ];
        add(`RUN ${JSON.stringify(cache)}`, `npmInstall ${layer.packages.join(" ")}`);
        break;
      }
      case "run":
        for (const command of layer.commands) {
          add(
            `RUN ${JSON.stringify(["/bin/sh", "-c", command])}`,
            `runCommands ${JSON.stringify(command)}`,
          );
        }
        break;
      case "env": {
        // A value with a newline cannot be written in a Dockerfile; containers still get it at start.
        const vars = Object.entries(layer.vars).filter(([, v]) => !/[\r\n]/.test(v));
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
        files.push({ contextPath: `l${i}/f`, hash: layer.hash, mode: layer.mode });
        add(
          `COPY ${JSON.stringify([`l${i}/f`, layer.remotePath])}`,
          `addLocalFile ${layer.remotePath}`,
        );
        break;
      case "dir":
        for (const f of layer.files) {
          files.push({ contextPath: `l${i}/${f.path}`, hash: f.hash, mode: f.mode });
        }
        if (layer.files.length) {
          add(
            `COPY ${JSON.stringify([`l${i}/`, `${layer.remotePath.replace(/\/+$/, "")}/`])}`,
            `addLocalDir ${layer.remotePath}`,
          );
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
