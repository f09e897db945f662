/**
 * One hardened container running the entrypoint: its configuration (all
 * capabilities dropped, no new privileges, read-only root with a tmpfs
 * /tmp, user 65534, pids/memory/cpu limits, an init that reaps, no network
 * when asked and otherwise nano-modal's own network where containers cannot
 * reach each other, and no host path but the bundle, the entrypoint and the
 * socket directory), and its life: create, attach (stdin too: when the worker
 * dies, stdin closes and the entrypoint ends itself), start; on exit, the
 * daemon's events say whether it ran out of memory, and it removes itself.
 */
import type { Dockerode } from "./_docker.ts";
import { demuxFrames } from "./_demux.ts";
import type { Sandbox, SandboxExit, SandboxSpec } from "../runner.ts";
import { imageEnv } from "../image_spec.ts";

/** Where the mounts appear inside the container. */
const MOUNT = {
  entrypoint: "/nano-modal/entrypoint.js",
  bundle: "/nano-modal/bundle.js",
  socketDir: "/nano-modal/run",
};

const MIB = 1024 * 1024;

/**
 * The bridge network sandboxes join unless `blockNetwork`: inter-container
 * traffic is off, so one function's container cannot reach another's.
 */
export const NETWORK = "nano-modal";

/** Creates {@linkcode NETWORK} unless it exists. */
export async function ensureNetwork(docker: Dockerode): Promise<void> {
  const found = await docker.listNetworks({ filters: { name: [NETWORK] } });
  if (found.some((n) => n.Name === NETWORK)) return;
  try {
    await docker.createNetwork({
      Name: NETWORK,
      Driver: "bridge",
      CheckDuplicate: true,
      Options: { "com.docker.network.bridge.enable_icc": "false" },
      Labels: { "nano-modal.network": "sandboxes" },
    });
  } catch (err) {
    // Another worker created it first.
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
}
/** Deno alone runs ~20 threads; npm binaries may add processes. */
export const PIDS_LIMIT = 256;
const OOM = /out of memory|heap limit|Allocation failed/i;

/**
 * A sandbox's container name: its id (`nm-<app>-<function>-<worker pid>-<n>`, what `docker ps`
 * and tests find a function's containers by) and a random tail.
 */
export function containerName(sandboxId: string): string {
  return `${sandboxId}-${crypto.randomUUID().slice(0, 6)}`;
}

/**
 * Docker's create-container body for a sandbox; with `spare`, for a spare container (see
 * `_spare.ts`): its bundle is not mounted but arrives later in its socket directory, and it waits
 * for its app's name there.
 */
export function containerConfig(
  spec: SandboxSpec,
  image: string,
  labels: Record<string, string>,
  spare = false,
): Dockerode.ContainerCreateOptions {
  const def = spec.def;
  const memoryMib = Math.max(16, def.memoryMib);
  const bind = (source: string, target: string) => ({
    Type: "bind" as const,
    Source: source,
    Target: target,
    ReadOnly: true,
  });
  return {
    name: containerName(spec.sandboxId),
    Image: image,
    Cmd: [
      "/usr/local/bin/deno",
      "run",
      "--allow-all",
      "--no-prompt",
      "--no-config",
      "--no-lock",
      `--v8-flags=--max-old-space-size=${memoryMib}`,
      MOUNT.entrypoint,
      `${MOUNT.socketDir}/sock`,
      spare ? `file://${MOUNT.socketDir}/bundle.js` : `file://${MOUNT.bundle}`,
      spec.appName,
      "--lifeline-stdin",
      ...(spare ? ["--spare-file"] : []),
    ],
    // The image's own environment plus nothing of the worker's: no tokens, no secrets.
    // The function's own secrets only (spec.env), never the worker's environment.
    Env: Object.entries({ ...imageEnv(def), ...spec.env }).map(([k, v]) => `${k}=${v}`),
    User: "65534:65534",
    WorkingDir: "/tmp",
    Labels: labels,
    Tty: false,
    // Held open by the worker's attach; closed when the worker goes, whatever the reason.
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      Mounts: [
        bind(spec.entrypointPath, MOUNT.entrypoint),
        ...(spare ? [] : [bind(spec.bundlePath, MOUNT.bundle)]),
        bind(spec.socketDir, MOUNT.socketDir),
        // The worker's copies of the function's volumes, writable by the container's user.
        ...(spec.mounts ?? []).map((m) => ({ ...bind(m.source, m.target), ReadOnly: m.readOnly })),
      ],
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      ReadonlyRootfs: true,
      Tmpfs: { "/tmp": `rw,nosuid,nodev,size=${memoryMib}m,mode=1777` },
      PidsLimit: PIDS_LIMIT,
      Memory: memoryMib * MIB,
      MemorySwap: memoryMib * MIB,
      NanoCpus: Math.round(def.cpu * 1e9),
      NetworkMode: def.blockNetwork ? "none" : NETWORK,
      // A service the user runs on the host on purpose stays reachable by name.
      ExtraHosts: def.blockNetwork ? [] : ["host.docker.internal:host-gateway"],
      // PID 1 reaps, and lets the entrypoint kill itself when its worker is gone.
      Init: true,
      // Nothing is left behind when a container ends, even if its worker is gone.
      AutoRemove: true,
      // Output is read from the attach stream; no log file grows on the host.
      LogConfig: { Type: "none", Config: {} },
    },
  };
}

/** A started container: a sandbox that can also be renamed (a spare taking its sandbox's name). */
export type Container = Sandbox & { rename(name: string): Promise<void> };

/** Creates, attaches to and starts a container with `config`: `spec`'s sandbox. */
export async function startContainer(
  docker: Dockerode,
  spec: SandboxSpec,
  config: Dockerode.ContainerCreateOptions,
): Promise<Container> {
  const container = await docker.createContainer(config);
  let watched: Watched;
  try {
    // Opened before start: with AutoRemove, the container cannot be inspected after it ends.
    watched = await watch(docker, container, spec);
    await container.start();
  } catch (err) {
    await removeContainer(container);
    throw err;
  }
  return lifeOf(container, spec, watched);
}

/**
 * A container that was started without this client (a run's early spare, `early_spare.ts`)
 * made `spec`'s sandbox: its events are read from `since` (unix seconds, before its start), its
 * output from now on (it has no log to read back). Removes it and rejects if it cannot.
 */
export async function adoptStartedContainer(
  docker: Dockerode,
  id: string,
  spec: SandboxSpec,
  since: number,
): Promise<Container> {
  const container = docker.getContainer(id);
  try {
    return lifeOf(container, spec, await watch(docker, container, spec, since));
  } catch (err) {
    await removeContainer(container);
    throw err;
  }
}

/** What a container's life is read from: its events and its attach stream. */
interface Watched {
  events: ContainerEvents;
  output: Promise<void>;
  /** The last 4 KiB it wrote to stderr. */
  stderrTail(): string;
}

/** Opens the container's events (from `since`, else now) and attaches to it, stdin too. */
async function watch(
  docker: Dockerode,
  container: Dockerode.Container,
  spec: SandboxSpec,
  since?: number,
): Promise<Watched> {
  let tail = "";
  const events = await watchEvents(docker, container.id, since);
  try {
    const stream = await container.attach({
      stream: true,
      stdin: true,
      stdout: true,
      stderr: true,
      hijack: true,
    });
    const output = demuxFrames(stream as unknown as AsyncIterable<Uint8Array>, (fd, text) => {
      if (fd === 2) {
        tail = (tail + text).slice(-4096);
        // V8's heap-limit crash is reported as OutOfMemoryError, not as output.
        if (OOM.test(text)) return;
      }
      spec.onOutput(fd, text);
    }).catch(() => {});
    return { events, output, stderrTail: () => tail };
  } catch (err) {
    events.close();
    throw err;
  }
}

/** The sandbox of a started container: its exit (code, signal, OOM), rename and kill. */
function lifeOf(container: Dockerode.Container, spec: SandboxSpec, watched: Watched): Container {
  const { events, output } = watched;
  const exited = (async (): Promise<SandboxExit> => {
    let code: number | null = null;
    try {
      code = (await container.wait()).StatusCode;
    } catch {
      // Removed while we waited: it was killed.
    }
    // The daemon reports `oom` before `die`; the attach stream may linger briefly.
    const [died] = await Promise.all([events.died(1_000), settleWithin(output, 1_000)]);
    code = died?.code ?? code;
    // It removes itself (AutoRemove); this only hurries a removal along.
    removeContainer(container).catch(() => {});
    const oom = events.oom || OOM.test(watched.stderrTail());
    events.close();
    const signal = code !== null && code > 128 ? signalName(code - 128) : null;
    return { code: signal ? null : code, signal, oom };
  })();
  return {
    id: spec.sandboxId,
    exited,
    async rename(name) {
      await container.rename({ name });
    },
    async kill() {
      // One call stops and removes; `exited` then settles.
      await removeContainer(container);
      await exited;
    },
  };
}

/** The daemon's `oom` and `die` events of one container. */
interface ContainerEvents {
  /** Whether the kernel's OOM killer hit the container. */
  readonly oom: boolean;
  /** Resolves with the exit code once `die` arrives, or undefined after `waitMs`. */
  died(waitMs: number): Promise<{ code: number } | undefined>;
  close(): void;
}

async function watchEvents(
  docker: Dockerode,
  id: string,
  since?: number,
): Promise<ContainerEvents> {
  const stream = await docker.getEvents({
    ...(since === undefined ? {} : { since }),
    filters: { type: ["container"], container: [id], event: ["oom", "die"] },
  }) as unknown as AsyncIterable<Uint8Array> & { destroy?: () => void };
  let oom = false;
  const die = Promise.withResolvers<{ code: number }>();
  (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        const event = JSON.parse(line) as {
          Action?: string;
          Actor?: { Attributes?: Record<string, string> };
        };
        if (event.Action === "oom") oom = true;
        if (event.Action === "die") {
          die.resolve({ code: Number(event.Actor?.Attributes?.exitCode ?? -1) });
        }
      }
    }
  })().catch(() => {});
  return {
    get oom() {
      return oom;
    },
    async died(waitMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), waitMs));
      try {
        return await Promise.race([die.promise, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      try {
        stream.destroy?.();
      } catch {
        // Already closed.
      }
    },
  };
}

/** Removes a container, waiting for a removal already in progress; gone is fine. */
async function removeContainer(container: Dockerode.Container): Promise<void> {
  try {
    await container.remove({ force: true });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 409) return;
    await container.wait({ condition: "removed" }).catch(() => {});
  }
}

const SIGNALS: Record<number, string> = {
  4: "SIGILL",
  5: "SIGTRAP",
  6: "SIGABRT",
  9: "SIGKILL",
  11: "SIGSEGV",
  15: "SIGTERM",
};

function signalName(n: number): string {
  return SIGNALS[n] ?? `SIG${n}`;
}

/** Waits for `work`, but at most `ms`: docker may hold an attach stream open briefly. */
async function settleWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([work, new Promise<void>((r) => timer = setTimeout(r, ms))]);
  clearTimeout(timer);
}
