// What the docker runner's tests share: a daemon check, a hand-written bundle,
// a temporary directory for it, and function definitions.
import { ok } from "node:assert/strict";
import { create, type MessageInitShape } from "../../proto/deps.ts";
import {
  FunctionDefSchema,
  type ImageDef,
  ImageDefSchema,
  type ImageLayerSchema,
} from "../../proto/messages.ts";
import { dockerReachable, dockerSocketPath } from "./_docker.ts";
import { entrypointFile } from "../_entrypoint_file.ts";

/** Whether a Docker daemon answers (checked once per test file). */
export const reachable = await dockerReachable(dockerSocketPath(), 3_000);
/** Docker tests leave daemon connections and timers that outlive one test. */
export const options = { sanitizeOps: false, sanitizeResources: false };

/** Fails (never skips) when no daemon answers. */
export function requireDocker(): void {
  ok(
    reachable,
    `No Docker daemon answers at ${dockerSocketPath()}: start dockerd to run these tests`,
  );
}

// A bundle written by hand: it registers its app the way the SDK does inside a sandbox.
const BUNDLE = `
const rt = globalThis[Symbol.for("nano-modal.runtime")];
rt.apps.push({ name: "unit", functions: new Map([
  ["echo", (x) => x],
  ["hog", () => { const keep = []; while (true) keep.push(new Uint8Array(8 << 20).fill(1)); }],
]) });
`;

/** A temporary directory holding the bundle, the entrypoint and a sandboxes root. */
export async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "nano-modal-docker-unit-" });
  const bundlePath = `${dir}/bundle.js`;
  await Deno.writeTextFile(bundlePath, BUNDLE);
  const entrypointPath = await entrypointFile(dir);
  await Deno.mkdir(`${dir}/sandboxes`);
  return { dir, bundlePath, entrypointPath };
}

/** A function definition for the bundle's functions, with `overrides`. */
export function def(overrides: Record<string, unknown> = {}) {
  return create(FunctionDefSchema, {
    name: "echo",
    timeoutMs: 60_000,
    memoryMib: 128,
    cpu: 0.5,
    concurrency: 1,
    maxContainers: 1,
    ...overrides,
  });
}

/** An image definition no other test shares, so it is built fresh. */
export function uniqueImage(): ImageDef {
  return image({ case: "base", value: "deno" }, {
    case: "env",
    value: { vars: { NONCE: crypto.randomUUID() } },
  });
}

/** An image message of `layers`, as the SDK sends it. */
export function image(...layers: MessageInitShape<typeof ImageLayerSchema>["layer"][]): ImageDef {
  return create(ImageDefSchema, { layers: layers.map((layer) => ({ layer })) });
}
