/**
 * The `deno` runner: each sandbox is a `deno run` subprocess with a clean
 * environment and Deno permissions limited to what the function needs: read
 * its bundle, use its socket and a private temp dir, and the public network
 * (never the host's loopback, its own addresses or private ranges) unless
 * `blockNetwork`; never run subprocesses, FFI, or the worker's environment.
 *
 * Where bubblewrap works (see `_bwrap.ts`) the subprocess also gets its own
 * mount, PID and (with `blockNetwork`) network namespace and a size-capped
 * tmpfs; where a memory cgroup can be made (see `_cgroup.ts`) `memoryMiB`
 * bounds the whole sandbox. Either way it dies with its worker.
 * @module
 */
import { denoPath } from "../proto/deno_path.ts";
import { sha256Hex } from "../proto/content_hash.ts";
import {
  DEFAULT_MEMORY_MIB,
  type FunctionSpec,
  type Runner,
  type Sandbox,
  type SandboxSpec,
  type SpareOptions,
} from "./runner.ts";
import { probeBwrap } from "./_bwrap.ts";
import { memoryCgroupParent, reapCgroups } from "./_cgroup.ts";
import { deniedNet } from "./_sandbox_net.ts";
import { reapOrphans } from "./_reap.ts";
import { CapacityError } from "./errors.ts";
import { hasSetpriv, realPath } from "./_subprocess.ts";
import { imageEnv, unhonouredImage } from "./image_spec.ts";
import { type HostSupport, spawnSandbox } from "./_deno_spawn.ts";
import { SpareSandbox, type SpareSdk } from "./_spare.ts";
import { SpareSlot } from "./_spare_slot.ts";
import { builtHere, keptSdk, learnSdk, readBundle, type SdkTrust } from "./_spare_sdk.ts";
import { entrypointFile } from "./_entrypoint_file.ts";
import { keepHost, keptHost, sameHost } from "./_host_cache.ts";

/** Options for {@linkcode DenoRunner}. */
export interface DenoRunnerOptions {
  /** The deno binary. @default the running deno, or NANO_MODAL_DENO (see proto/deno_path.ts) */
  denoPath?: string;
  /** Where sandboxes cache compiled code (without bubblewrap; inside it, their own temp dir). */
  denoDir: string;
  /** Use bubblewrap where it works. @default true */
  bubblewrap?: boolean;
  /** Where the runner reports its own state (once). @default console.error */
  log?: (line: string) => void;
}

/** How often sandboxes left by dead workers are looked for. */
const REAP_EVERY_MS = 30_000;

/**
 * Runs sandboxes as Deno subprocesses.
 *
 * @example
 * ```ts ignore
 * import { DenoRunner } from "./deno_runner.ts";
 * const runner = new DenoRunner({ denoDir: "/tmp/nano-modal/deno" });
 * ```
 */
export class DenoRunner implements Runner {
  /** Always `"deno"`. */
  readonly name = "deno";
  #denoPath: string;
  #denoDir: string;
  #options: DenoRunnerOptions;
  #support?: Promise<HostSupport>;
  /** The probe's answers once it has given them (spares started after it start on them). */
  #probed?: HostSupport;
  #reaper?: ReturnType<typeof setInterval>;
  readonly #spare = new SpareSlot<{ spare: SpareSandbox; host: HostSupport }>(
    (options) => this.prestart(options),
    ({ spare }) => spare.kill(),
  );
  /** The SDK the last bundle began with (spares load it ahead), once spares are used. */
  #sdk?: Promise<SpareSdk | undefined>;
  /** Where the SDK spares load is kept for the next run (the spares' cache dir). */
  #sdkDir?: string;
  /** Which SDKs spares may load (a worker's: only those built here); undefined: any. */
  #sdkTrust?: SdkTrust;
  /** Directories this runner's sandboxes live in (where dead workers' orphans may be). */
  readonly #roots = new Set<string>();

  /** A runner whose sandboxes cache compiled code in `options.denoDir`. */
  constructor(options: DenoRunnerOptions) {
    this.#options = options;
    this.#denoPath = options.denoPath ?? denoPath();
    this.#denoDir = options.denoDir;
  }

  /**
   * The subprocess sandbox runs the bundle with this host's Deno: of an image
   * it honours only `Image.deno()`, `.env()` and `.npmInstall()` (Deno fetches
   * npm packages itself), and volumes only inside bubblewrap. Anything else
   * is refused with one line naming the option, never ignored.
   */
  async prepare(def: FunctionSpec): Promise<void> {
    const refused = unhonouredImage(def);
    if (refused) {
      throw new CapacityError(
        `${def.name} uses ${refused}, which the deno runner cannot honour: run it on a worker with --runner docker`,
      );
    }
    if (def.volumes?.length && !(await this.#host()).bwrap) {
      throw new CapacityError(
        `${def.name} mounts volumes, which the deno runner gives only inside bubblewrap: install bubblewrap, or use --runner docker`,
      );
    }
  }

  /** What isolation this host gives sandboxes (for tests and `status`). */
  async isolation(): Promise<{ bubblewrap: boolean; userNamespace: boolean; cgroup: boolean }> {
    const s = await this.#host();
    return { bubblewrap: !!s.bwrap, userNamespace: !!s.bwrap?.userns, cgroup: !!s.cgroupParent };
  }

  #host(): Promise<HostSupport> {
    return this.#support ??= (async () => {
      const [bwrap, cgroupParent, setpriv] = await Promise.all([
        this.#options.bubblewrap === false ? null : probeBwrap(await realPath(this.#denoPath)),
        memoryCgroupParent(),
        hasSetpriv(),
      ]);
      const log = this.#options.log ?? ((line: string) => console.error(line));
      if (!bwrap) {
        log(
          "nano-modal: bubblewrap (bwrap) is not usable here: deno sandboxes run without their own mount and PID namespaces (Deno permissions still deny loopback, private ranges and the host's files); install bubblewrap for stronger isolation",
        );
      }
      return this.#probed = { bwrap, cgroupParent, setpriv, denied: deniedNet() };
    })();
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const host = await this.#host();
    this.#roots.add(spec.socketDir.slice(0, spec.socketDir.lastIndexOf("/")));
    const pending = this.#spare.take();
    const started = await pending;
    const spare = started?.spare;
    // Where spares are used: read once, for the spare's adoption and for the SDK the next
    // spares load (the one this bundle begins with).
    const bundle = this.#sdk && readBundle(spec.bundlePath);
    if (bundle) this.#sdk = learnSdk(this.#sdk!, bundle, this.#sdkDir, this.#sdkTrust);
    if (spare?.fits(spec) && sameHost(started!.host, host) && spare.takes(await bundle)) {
      const adopted = await spare.adopt(spec, bundle).catch(() => undefined);
      this.#spare.refillLater();
      if (adopted) return adopted;
      spare.kill();
    } else if (
      spare?.alive && sameHost(started!.host, host) &&
      // A spare of another SDK than the next would load goes: the SDK apps use now has changed.
      (await this.#sdk)?.part === spare.sdkPart && this.#spare.putBack(pending!)
    ) {
      // Kept for a later sandbox that fits (this one starts its own).
    } else {
      // Unfit with nothing keeping it, or started on answers this host no longer gives: a new
      // spare replaces it.
      spare?.kill();
      this.#spare.refillLater();
    }
    const def = spec.def;
    const spawned = await spawnSandbox(host, { denoPath: this.#denoPath, denoDir: this.#denoDir }, {
      sandboxId: spec.sandboxId,
      socketDir: spec.socketDir,
      entrypointPath: spec.entrypointPath,
      bundlePath: spec.bundlePath,
      memoryMib: def.memoryMib,
      blockNetwork: def.blockNetwork,
      mounts: spec.mounts ?? [],
      env: { ...imageEnv(def), ...spec.env },
      entryArgs: [spec.appName],
      stdin: "null",
      onOutput: spec.onOutput,
    });
    return { id: spec.sandboxId, exited: spawned.exited, kill: () => spawned.kill() };
  }

  /**
   * Starts a spare sandbox now, for the first sandbox this runner starts if
   * that one would start identically (see `_spare.ts`): `nano-modal run`
   * calls it at its first moment, so that the sandbox's own start overlaps
   * the CLI's. `memoryMib` is the SDK's default. One spare at most.
   */
  prestart(options: SpareOptions): void {
    if (this.#spare.filled) return;
    const { cacheDir } = options;
    if (options.preloadSdk) {
      this.#sdkDir = cacheDir;
      // A worker's spares: only an SDK this host's own `nano-modal run` built (see
      // _spare_sdk.ts); a run's: the one its own last bundle began with.
      if (options.preloadSdk === "built-here" && !this.#sdkTrust) {
        this.#sdkTrust = trustBuiltHere(cacheDir);
      }
      this.#sdk ??= keptSdk(cacheDir, this.#sdkTrust);
    }
    const sdk = this.#sdk;
    // The probe's answers are kept for the next run: this one starts its spare on the last
    // run's, and start() adopts it only if this run's probe says the same.
    const probed = this.#host();
    const kept = keptHost(cacheDir, this.#denoPath);
    // Written only when it says something new: most runs find the same host as the last.
    Promise.all([probed, kept]).then(([host, last]) => {
      if (!last || !sameHost(last, host)) return keepHost(cacheDir, this.#denoPath, host);
    }).catch(() => {});
    this.#spare.fill(
      (async () => {
        const [host, entrypointPath, known] = await Promise.all([
          // A kept spare started after the probe answered starts on its answers: the last run's
          // would differ from them where the host's own addresses changed meanwhile.
          this.#probed ?? kept.then((last) => last ?? probed),
          entrypointFile(cacheDir),
          sdk,
        ]);
        const rootDir = `${cacheDir}/sandboxes`;
        this.#roots.add(rootDir);
        const bin = { denoPath: this.#denoPath, denoDir: this.#denoDir };
        const spare = await SpareSandbox.start(host, bin, {
          memoryMib: options.memoryMib ?? DEFAULT_MEMORY_MIB,
          rootDir,
          entrypointPath,
          sdk: known,
        });
        return { spare, host };
      })().catch(() => undefined),
    );
  }

  /**
   * Keeps a spare sandbox ready from now on (a long-running worker's): one
   * starts now, and another a while after each is taken (`_spare_slot.ts`),
   * so a new app's first sandbox skips bubblewrap's and Deno's start. Costs
   * one idle process (~40 MB). Returns the function that stops keeping it
   * (the spare stops once no caller keeps one).
   */
  keepSpare(options: SpareOptions): () => Promise<void> {
    return this.#spare.keep(options);
  }

  /** Stops the spare sandbox if no sandbox took it. */
  dropSpare(): Promise<void> {
    return this.#spare.drop();
  }

  /**
   * Kills sandboxes and removes cgroups that workers which died left behind
   * (in the directories this runner's sandboxes use; the worker reaps its
   * own directory at start), then keeps doing so every {@linkcode REAP_EVERY_MS}.
   */
  async cleanup(): Promise<void> {
    await this.#reap();
    if (!this.#reaper) {
      this.#reaper = setInterval(() => this.#reap().catch(() => {}), REAP_EVERY_MS);
      Deno.unrefTimer(this.#reaper);
    }
  }

  async #reap(): Promise<void> {
    const host = await this.#host();
    for (const root of this.#roots) await reapOrphans(root);
    if (host.cgroupParent) await reapCgroups(host.cgroupParent.dir);
  }
}

/** How many SDKs' verdicts a worker keeps, and how long a "not built here" one holds. */
const VERDICTS_KEPT = 16;
const REFUSAL_HOLDS_MS = 60_000;

/**
 * {@linkcode builtHere} for a worker's spares, remembered by the SDK part's hash (clients of
 * another SDK keep sending theirs; each would otherwise read the cache's link files again):
 * at most {@linkcode VERDICTS_KEPT}, a refusal for a minute (this host's `run` may build that
 * SDK meanwhile).
 */
function trustBuiltHere(cacheDir: string): SdkTrust {
  const verdicts = new Map<string, { trusted: Promise<boolean>; atMs: number }>();
  return async (part) => {
    const key = await sha256Hex(new TextEncoder().encode(part));
    const known = verdicts.get(key);
    if (known && (await known.trusted || Date.now() - known.atMs < REFUSAL_HOLDS_MS)) {
      return known.trusted;
    }
    const trusted = builtHere(cacheDir, part);
    verdicts.delete(key);
    verdicts.set(key, { trusted, atMs: Date.now() });
    if (verdicts.size > VERDICTS_KEPT) verdicts.delete(verdicts.keys().next().value!);
    return trusted;
  };
}
