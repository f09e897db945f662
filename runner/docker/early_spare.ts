/**
 * The spare container `nano-modal run` starts at its first moment, before the
 * docker runner (and dockerode, ~65 ms of module loading) has loaded: the
 * container's start (~0.3 s) is what the first call of a run with no server
 * waits for, so it begins before everything else.
 *
 * It starts as the last spare container of this user did: the runner writes
 * down what that one was (its image and entrypoint file, {@linkcode
 * rememberSpare}); the container's whole configuration is built here as the
 * runner builds it (`containerConfig`, with its hardening), never read from a
 * file. The runner then takes the container as its spare
 * (`SpareContainer.fromEarly`) if it would have started the same one, and
 * removes it otherwise. Until the runner attaches to it, nothing holds its
 * stdin: a run killed in that moment leaves it to the reaper of the next
 * docker worker of this host (its label names this process, which is gone).
 * @module
 */
import { containerConfig } from "./_container.ts";
import { ownerLabelSync, WORKER_LABEL } from "./_owner_label.ts";
import type { SandboxSpec } from "../runner.ts";
import { writeAtomically } from "../../proto/write_atomically.ts";

/** Where the daemon listens (for the runner's light door, `runner/early.ts`). */
export { dockerSocketPath } from "./_socket.ts";

/** What a spare container starts from, besides the runner's fixed configuration. */
export interface SpareRecipe {
  /** The default image's tag. */
  image: string;
  /** The bundled entrypoint on this host. */
  entrypointPath: string;
  /** Its memory limit (the SDK's default `memoryMiB`). */
  memoryMib: number;
}

/** A container started by {@linkcode startEarlySpare}, not yet the runner's. */
export interface EarlySpare {
  /** The container's id. */
  readonly id: string;
  /** Its directory (socket, bundle and app name arrive there). */
  readonly dir: string;
  /** What it started from. */
  readonly recipe: SpareRecipe;
  /** Unix seconds just before it started (its events are read from then). */
  readonly since: number;
  /** Whether nothing took it yet; the first caller takes it (then it is theirs to remove). */
  claim(): boolean;
  /** Removes it unless it was claimed. */
  drop(): Promise<void>;
}

/** The CPU share a spare starts with: the SDK's default `cpu`. */
export const SPARE_CPU = 1;

const RECIPE_FILE = "docker-spare.json";

function recipePath(cacheDir: string): string {
  return `${cacheDir}/${RECIPE_FILE}`;
}

/** Writes down what a spare container started from, for the next run (unless it is so already). */
export async function rememberSpare(cacheDir: string, recipe: SpareRecipe): Promise<void> {
  const { image, entrypointPath, memoryMib } = recipe;
  const text = JSON.stringify({ image, entrypointPath, memoryMib });
  const old = await Deno.readTextFile(recipePath(cacheDir)).catch(() => "");
  if (old !== text) await writeAtomically(recipePath(cacheDir), text);
}

/** The recipe if the file holds a well-formed one. */
function parseRecipe(text: string): SpareRecipe | undefined {
  try {
    const r = JSON.parse(text);
    if (
      typeof r.image === "string" && r.image && typeof r.entrypointPath === "string" &&
      r.entrypointPath.startsWith("/") && Number.isInteger(r.memoryMib) && r.memoryMib > 0
    ) return { image: r.image, entrypointPath: r.entrypointPath, memoryMib: r.memoryMib };
  } catch {
    // Not JSON: no recipe.
  }
  return undefined;
}

/**
 * The module a helper thread runs to create and start the container: on the run's own thread,
 * the start request would wait for the create's reply behind ~0.1 s of module loading.
 */
const STARTER = `
self.onmessage = async ({ data }) => {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: data.socketPath } });
  const call = (method, path, body) => fetch("http://docker" + path, {
    method, client,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let id;
  try {
    const created = await call("POST", "/containers/create?name=" + data.name, data.body);
    if (created.status !== 201) throw new Error("create: " + created.status + " " + await created.text());
    id = String((await created.json()).Id);
    const since = Math.floor(Date.now() / 1000);
    const started = await call("POST", "/containers/" + id + "/start");
    await started.body?.cancel();
    if (started.status !== 204) throw new Error("start: " + started.status);
    self.postMessage({ id, since });
  } catch (err) {
    self.postMessage({ id, error: String(err) });
  } finally {
    client.close();
    self.close();
  }
};`;

/** What the helper thread did: the container's id (if created), when it started, or why not. */
interface Started {
  id?: string;
  since: number;
  error?: string;
}

/** How long a run waits for its early container's start before it lets the runner start one. */
const EARLY_START_MS = 5_000;

/** Creates and starts the container on a helper thread. */
function createAndStart(socketPath: string, name: string, body: unknown): Promise<Started> {
  const worker = new Worker(`data:application/javascript,${encodeURIComponent(STARTER)}`, {
    type: "module",
  });
  const { promise, resolve } = Promise.withResolvers<Started>();
  worker.onmessage = ({ data }) => resolve(data);
  worker.onerror = (e) => {
    e.preventDefault();
    resolve({ since: 0, error: e.message });
  };
  worker.postMessage({ socketPath, name, body });
  return promise.finally(() => worker.terminate());
}

/** The Docker Engine API at `socketPath`, by plain HTTP requests (nothing to load). */
function engine(socketPath: string) {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  return {
    async call(method: string, path: string, body?: unknown): Promise<Response> {
      return await fetch(`http://docker${path}`, {
        method,
        client,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
    close: () => client.close(),
  };
}

/**
 * Starts a spare container as the last one of this user started (see the
 * module's text), in `${cacheDir}/sandboxes`; undefined when there is no
 * recipe yet, its entrypoint is gone, or the daemon refuses (the runner then
 * starts its spare as it always did).
 */
export async function startEarlySpare(
  cacheDir: string,
  socketPath: string,
  waitMs = EARLY_START_MS,
): Promise<EarlySpare | undefined> {
  // Synchronous up to the request: the run's module loading must not come first.
  const recipe = parseRecipe(readOr(recipePath(cacheDir)));
  if (!recipe || !isFile(recipe.entrypointPath)) return undefined;
  const dir = `${cacheDir}/sandboxes/nm-spare-c-${Deno.pid}-0`;
  const removeDir = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  let started: Promise<Started>;
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const { name, ...body } = containerConfig(
      earlySpec(dir, recipe),
      recipe.image,
      { [WORKER_LABEL]: ownerLabelSync(), "nano-modal.spare": "1" },
      true,
    );
    started = createAndStart(socketPath, name!, body);
  } catch {
    await removeDir();
    return undefined;
  }
  // A daemon that answers slowly (or not at all) must not hold the runner's own spare back.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), waitMs));
  const first = await Promise.race([started, late]);
  clearTimeout(timer);
  if (first === "late") {
    // Removed once it is there, if this process still runs then.
    started.then(async ({ id }) => {
      if (id) await removeById(socketPath, id);
      await removeDir();
    });
    return undefined;
  }
  if (first.error || !first.id) {
    if (first.id) await removeById(socketPath, first.id);
    await removeDir();
    return undefined;
  }
  return early(first.id, dir, recipe, first.since, socketPath);
}

/** The spec a spare container of `recipe` is built from (what `SpareContainer.start` passes). */
export function earlySpec(dir: string, recipe: SpareRecipe): SandboxSpec {
  return {
    sandboxId: dir.slice(dir.lastIndexOf("/") + 1),
    appId: "",
    appName: "",
    functionName: "",
    def: { name: "", memoryMib: recipe.memoryMib, cpu: SPARE_CPU, blockNetwork: false },
    bundlePath: "",
    entrypointPath: recipe.entrypointPath,
    socketDir: dir,
    onOutput: () => {},
  };
}

function early(
  id: string,
  dir: string,
  recipe: SpareRecipe,
  since: number,
  socketPath: string,
): EarlySpare {
  let claimed = false;
  return {
    id,
    dir,
    recipe,
    since,
    claim: () => claimed ? false : (claimed = true),
    async drop() {
      if (claimed) return;
      claimed = true;
      await removeById(socketPath, id);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function removeById(socketPath: string, id: string): Promise<void> {
  const api = engine(socketPath);
  try {
    const res = await api.call("DELETE", `/containers/${id}?force=true`).catch(() => undefined);
    await res?.body?.cancel();
  } finally {
    api.close();
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function readOr(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Whether spares of `a` and of `b` start the same. */
export function sameRecipe(a: SpareRecipe, b: SpareRecipe): boolean {
  return a.image === b.image && a.entrypointPath === b.entrypointPath &&
    a.memoryMib === b.memoryMib;
}
