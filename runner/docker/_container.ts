/**
 * One hardened container running the entrypoint: its configuration (all
 * capabilities dropped, no new privileges, read-only root with a tmpfs
 * /tmp, user 65534, pids/memory/cpu limits, no network when asked, and no
 * host path but the bundle, the entrypoint and the socket directory), and
 * its life: create, attach, start; on exit, inspect (out of memory?) and
 * remove.
 */
import type { Dockerode } from "./_docker.ts";
import { demuxFrames } from "./_demux.ts";
import type { Sandbox, SandboxExit, SandboxSpec } from "../runner.ts";
import { imageEnv } from "../deno_runner.ts";

/** Where the mounts appear inside the container. */
const MOUNT = {
  entrypoint: "/nano-modal/entrypoint.js",
  bundle: "/nano-modal/bundle.js",
  socketDir: "/nano-modal/run",
};

const MIB = 1024 * 1024;
/** Deno alone runs ~20 threads; npm binaries may add processes. */
export const PIDS_LIMIT = 256;
const OOM = /out of memory|heap limit|Allocation failed/i;

/** Docker's create-container body for a sandbox. */
export function containerConfig(
  spec: SandboxSpec,
  image: string,
  labels: Record<string, string>,
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
    name: `${spec.sandboxId}-${crypto.randomUUID().slice(0, 6)}`,
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
      `file://${MOUNT.bundle}`,
      spec.appName,
    ],
    // The image's own environment plus nothing of the worker's: no tokens, no secrets.
    // The function's own secrets only (spec.env), never the worker's environment.
    Env: Object.entries({ ...imageEnv(def), ...spec.env }).map(([k, v]) => `${k}=${v}`),
    User: "65534:65534",
    WorkingDir: "/tmp",
    Labels: labels,
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      Mounts: [
        bind(spec.entrypointPath, MOUNT.entrypoint),
        bind(spec.bundlePath, MOUNT.bundle),
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
      NetworkMode: def.blockNetwork ? "none" : "bridge",
      // Output is read from the attach stream; no log file grows on the host.
      LogConfig: { Type: "none", Config: {} },
    },
  };
}

/** Creates and starts a container; its output goes to `spec.onOutput`. */
export async function startContainer(
  docker: Dockerode,
  spec: SandboxSpec,
  config: Dockerode.ContainerCreateOptions,
): Promise<Sandbox> {
  const container = await docker.createContainer(config);
  let stderrTail = "";
  let output: Promise<void>;
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    output = demuxFrames(stream as unknown as AsyncIterable<Uint8Array>, (fd, text) => {
      if (fd === 2) {
        stderrTail = (stderrTail + text).slice(-4096);
        // V8's heap-limit crash is reported as OutOfMemoryError, not as output.
        if (OOM.test(text)) return;
      }
      spec.onOutput(fd, text);
    }).catch(() => {});
    await container.start();
  } catch (err) {
    await removeContainer(container);
    throw err;
  }
  const exited = (async (): Promise<SandboxExit> => {
    let code: number | null = null;
    let oom = false;
    try {
      code = (await container.wait()).StatusCode;
    } catch {
      // Removed while we waited: it was killed.
    }
    await settleWithin(output, 1_000);
    try {
      const state = (await container.inspect()).State;
      oom = state.OOMKilled;
      code = state.ExitCode;
    } catch {
      // Already removed by kill().
    }
    await removeContainer(container);
    oom ||= OOM.test(stderrTail);
    const signal = code !== null && code > 128 ? signalName(code - 128) : null;
    return { code: signal ? null : code, signal, oom };
  })();
  return {
    id: spec.sandboxId,
    exited,
    async kill() {
      // One call stops and removes; `exited` then settles.
      await removeContainer(container);
      await exited;
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
