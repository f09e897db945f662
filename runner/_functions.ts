/**
 * The functions a worker has seen: their definitions, bundles (cached on disk
 * by hash), prepared images and warm-sandbox pools, shared by all their inputs.
 */
import type { createClient } from "../proto/deps.ts";
import type { Clock } from "../proto/clock.ts";
import type { FunctionDef, GetFunctionResponse, WorkerService } from "../proto/messages.ts";
import type { Resources } from "./_resources.ts";
import { FunctionPool } from "./_pool.ts";
import { checkCapacity, hostCapacity } from "./_capacity.ts";

/** What this host offers sandboxes, read once. */
const HOST = hostCapacity();
import type { Runner } from "./runner.ts";
import type { ContainerCounts, WorkerFigures } from "./_figures.ts";
import type { NestedHandler } from "./_protocol.ts";
import type { PoolShare } from "./_scaling.ts";
import { writeAtomically } from "../proto/write_atomically.ts";
import { touchCached } from "../proto/cache_prune.ts";

/** A function ready to run inputs. */
export interface FunctionInfo {
  appId: string;
  def: FunctionDef;
  pool: FunctionPool;
}

/** Where a function's output goes: 1 stdout, 2 stderr, 3 platform lines (image builds). */
export type OutputSink = (
  appId: string,
  functionName: string,
  fd: 1 | 2 | 3,
  text: string,
  inputId?: string,
) => void;

/** What the cache needs from its worker. */
export interface FunctionCacheOptions {
  client: ReturnType<typeof createClient<typeof WorkerService>>;
  runner: Runner;
  clock: Clock;
  cacheDir: string;
  entrypoint: Promise<string>;
  onOutput: OutputSink;
  /** Counts image builds, cold starts and sandbox deaths. */
  figures?: WorkerFigures;
  /** The worker's cores and memory, shared by every pool. */
  resources?: Resources;
  /** Answers calls made from inside sandboxes (see `_nested.ts`). */
  onNested?: NestedHandler;
  /** The worker's share of the cluster: containers it may run, warm duties. */
  share?: PoolShare;
}

/** Loads functions once and keeps their pools. */
export class FunctionCache {
  readonly #options: FunctionCacheOptions;
  readonly #functions = new Map<string, Promise<FunctionInfo>>();
  /** What each of {@linkcode #functions}' promises resolved to, once it has. */
  readonly #loaded = new WeakMap<Promise<FunctionInfo>, FunctionInfo>();
  /** Downloads under way, by hash: functions loading at once fetch a bundle once. */
  readonly #downloads = new Map<string, Promise<string>>();
  /** The bundle hash of each loaded function, to keep those files in the cache. */
  readonly #bundleOf = new Map<string, string>();
  /** Functions described ahead of their inputs (see {@linkcode FunctionCache.prefetch}). */
  readonly #prefetched = new Map<string, GetFunctionResponse>();
  /** Loaded pools, readable without awaiting (for the heartbeat's figures). */
  readonly #pools = new Map<string, FunctionPool>();

  constructor(options: FunctionCacheOptions) {
    this.#options = options;
  }

  /** The function, loaded on first use; `described` saves asking the server. */
  get(functionId: string, described?: GetFunctionResponse): Promise<FunctionInfo> {
    let info = this.#functions.get(functionId);
    if (!info) {
      const loading = this.#load(functionId, described ?? this.#prefetched.get(functionId));
      info = loading;
      this.#prefetched.delete(functionId);
      this.#functions.set(functionId, info);
      info.then(
        (loaded) => this.#loaded.set(loading, loaded),
        () => this.#functions.delete(functionId),
      );
    }
    return info;
  }

  /** The function if it has loaded already (no promise to wait on: every input asks). */
  loaded(functionId: string): FunctionInfo | undefined {
    const info = this.#functions.get(functionId);
    return info && this.#loaded.get(info);
  }

  /**
   * A new app's function, described before any input: its bundle is
   * downloaded now and its description kept for its first input. Nothing
   * more (an image build waits for an input: every worker hears of every app).
   */
  prefetch(functionId: string, described: GetFunctionResponse): void {
    if (this.#functions.has(functionId) || this.#prefetched.has(functionId)) return;
    this.#prefetched.set(functionId, described);
    this.#bundle(described.bundleHash).catch(() => {}); // an input's load retries it
  }

  /**
   * A new ephemeral app's function whose first input is on its way: loaded now (its image
   * built), and its first container started if the worker has room for it.
   */
  prestart(functionId: string, described: GetFunctionResponse): void {
    this.get(functionId, described).then((info) => info.pool.prestart(), () => {});
  }

  /** Starts loading a function the server described, if not known yet. */
  learn(functionId: string, described: GetFunctionResponse): void {
    if (!this.#functions.has(functionId)) this.get(functionId, described).catch(() => {});
  }

  async #load(functionId: string, described?: GetFunctionResponse): Promise<FunctionInfo> {
    const res = described ?? await this.#options.client.getFunction({ functionId });
    const def = res.def!;
    checkCapacity(def, HOST, `the worker on ${Deno.hostname()}`);
    const bundlePath = await this.#bundle(res.bundleHash);
    this.#bundleOf.set(functionId, res.bundleHash);
    const output = (fd: 1 | 2 | 3, text: string, inputId?: string) =>
      this.#options.onOutput(res.appId, def.name, fd, text, inputId);
    const runner = this.#options.runner;
    let built = false;
    await runner.prepare(def, {
      log: (line) => {
        // prepare() says something only when it builds an image.
        if (!built && this.#options.figures) this.#options.figures.imageBuilds++;
        built = true;
        output(3, line);
      },
      fetchBlob: (hash) => this.#bundle(hash),
    });
    if (built) {
      this.#options.figures?.events.event(
        "image.built",
        `image built for ${res.appName}.${def.name}`,
        { app: res.appName, function: def.name },
      );
    }
    const pool = new FunctionPool({
      functionId,
      appId: res.appId,
      appName: res.appName,
      def,
      bundlePath,
      entrypointPath: await this.#options.entrypoint,
      rootDir: `${this.#options.cacheDir}/sandboxes`,
      onOutput: output,
      onNested: this.#options.onNested,
    }, {
      runner,
      clock: this.#options.clock,
      figures: this.#options.figures,
      resources: this.#options.resources,
      share: this.#options.share,
    });
    this.#pools.set(functionId, pool);
    return { appId: res.appId, def, pool };
  }

  /**
   * A bundle's (or image file's) path on disk, downloaded unless the cache has
   * it. Looked for on each load, not remembered: the cache dir may be pruned.
   */
  #bundle(hash: string): Promise<string> {
    let path = this.#downloads.get(hash);
    if (!path) {
      path = this.#download(hash).finally(() => this.#downloads.delete(hash));
      this.#downloads.set(hash, path);
    }
    return path;
  }

  async #download(hash: string): Promise<string> {
    const file = this.#path(hash);
    // Cached already (by this worker, or a run's client on this host): a use keeps it.
    if (await touchCached(file)) return file;
    const { data } = await this.#options.client.getBundle({ hash });
    await writeAtomically(file, data);
    return file;
  }

  /** The paths of the bundles that loaded functions, and those described ahead, run from. */
  bundlePaths(): string[] {
    const hashes = new Set(this.#bundleOf.values());
    for (const described of this.#prefetched.values()) hashes.add(described.bundleHash);
    return [...hashes].map((hash) => this.#path(hash));
  }

  #path(hash: string): string {
    return `${this.#options.cacheDir}/bundles/${hash}.js`;
  }

  /** Stops the pools of an app that ended. */
  async appStopped(appId: string): Promise<void> {
    this.#forgetPrefetched(appId);
    // All at once: a function still loading (an image being built, maybe another app's) holds
    // up no other, and each pool waits for its sandboxes to stop (and commit their volumes).
    await Promise.all([...this.#functions].map(async ([id, info]) => {
      const fn = await info.catch(() => undefined);
      if (fn?.appId !== appId || this.#functions.get(id) !== info) return;
      this.#functions.delete(id);
      this.#pools.delete(id);
      this.#bundleOf.delete(id);
      await fn.pool.close();
    }));
  }

  /** A superseded app: its pools stop their sandboxes as they fall idle. */
  async appDrained(appId: string): Promise<void> {
    // A superseded version's late inputs ask for their function (GetFunction) instead.
    this.#forgetPrefetched(appId);
    for (const info of this.#functions.values()) {
      const fn = await info.catch(() => undefined);
      if (fn?.appId === appId) fn.pool.retire();
    }
  }

  /** Drops the descriptions of an app's functions that no input has loaded. */
  #forgetPrefetched(appId: string): void {
    for (const [id, described] of this.#prefetched) {
      if (described.appId === appId) this.#prefetched.delete(id);
    }
  }

  /** Wakes these functions' loaded pools: they may start more sandboxes now. */
  wake(functionIds: string[]): void {
    for (const id of functionIds) this.#pools.get(id)?.warm();
  }

  /** Lets every pool stop its idle sandboxes. */
  async scaleDown(): Promise<void> {
    for (const info of this.#functions.values()) {
      const fn = await info.catch(() => undefined);
      await fn?.pool.scaleDown();
    }
  }

  /** Inputs the warm sandboxes may hold queued beyond their `concurrency` (pipelining). */
  pipelined(): number {
    let n = 0;
    for (const pool of this.#pools.values()) {
      n += pool.size * (pool.slots - Math.max(1, pool.spec.def.concurrency));
    }
    return n;
  }

  /** Sandboxes of every loaded function, by state. */
  containerCounts(): ContainerCounts {
    const total = { idle: 0, busy: 0, starting: 0 };
    for (const pool of this.#pools.values()) {
      const c = pool.counts();
      total.idle += c.idle;
      total.busy += c.busy;
      total.starting += c.starting;
    }
    return total;
  }

  /** Warm sandboxes (idle, busy or starting) per loaded function id. */
  containersByFunction(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, pool] of this.#pools) {
      const c = pool.counts();
      out[id] = c.idle + c.busy + c.starting;
    }
    return out;
  }

  /** Stops every pool. */
  async close(): Promise<void> {
    const infos = await Promise.allSettled(this.#functions.values());
    this.#functions.clear();
    this.#pools.clear();
    await Promise.allSettled(
      infos.map((r) => r.status === "fulfilled" ? r.value.pool.close() : undefined),
    );
  }
}
