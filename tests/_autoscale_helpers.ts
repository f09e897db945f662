/** Shared by the autoscaler's end-to-end tests: status over the wire, polling, result checks. */
import { strictEqual } from "node:assert/strict";
import { type ClusterStatus, connectStats } from "../autoscale/mod.ts";
import { readTokenFile } from "../proto/token_file.ts";

/** The control plane's status, read over the wire (with the local server's token by default). */
export async function status(url: string, token = readTokenFile()): Promise<ClusterStatus> {
  const client = connectStats(url, { token });
  try {
    return await client.status();
  } finally {
    client.close();
  }
}

/** Polls `probe` every 200 ms until it returns true; fails with `what` after `timeoutMs`. */
export async function until(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
  detail: () => string = () => "",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Checks a run of tests/fixtures/slow_map.ts: every result once, in order, and each input ran once. */
export function expectSlowMap(stdout: string, n: number): void {
  const results = [...stdout.matchAll(/^r (\d+) (\d+)$/gm)].map((m) => Number(m[1]));
  strictEqual(results.length, n, `exactly ${n} results:\n${stdout.slice(-2000)}`);
  results.forEach((v, i) => strictEqual(v, i, "in order"));
  const ran = [...stdout.matchAll(/ran (\d+)$/gm)].map((m) => Number(m[1]));
  strictEqual(ran.length, n, `each input ran exactly once (${ran.length} runs for ${n} inputs)`);
  strictEqual(new Set(ran).size, n, "no input ran twice");
  strictEqual(stdout.match(/^done (\d+)$/m)?.[1], String(n));
}

/** Builds the stack's images (`deno task image`); skipped inside when nothing changed. */
export async function buildImages(): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/build_images.ts"],
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`deno task image failed:\n${new TextDecoder().decode(stderr)}`);
}

/** `docker ps -a` lines (`<name> <labels>`) of containers with `label`. */
export async function containersWithLabel(label: string): Promise<string[]> {
  const { stdout } = await new Deno.Command("docker", {
    args: ["ps", "-a", "--filter", `label=${label}`, "--format", "{{.Names}} {{.Labels}}"],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(stdout).split("\n").filter(Boolean);
}

/**
 * Runs `fn` while holding a host-wide lock. The swarm test's `docker swarm init` and
 * `leave` rewire the engine's networking (ingress, iptables), which can cut the compose
 * stack's published port: those two tests take turns, even in parallel test processes.
 */
export async function withEngineNetworkLock<T>(fn: () => Promise<T>): Promise<T> {
  const file = await Deno.open("/tmp/nano-modal-engine-network.lock", {
    create: true,
    write: true,
  });
  try {
    await file.lock(true);
    return await fn();
  } finally {
    file.close();
  }
}

/** What the autoscaler tests vary on its command line; the rest is the same for all. */
export interface AutoscalerFlags {
  /** `--min`. */
  min: number;
  /** `--max`. */
  max: number;
  /** `--idle-ms` (default 60 s: no scale-down during the test). */
  idleMs?: number;
  /** `--worker-runner` (default deno). */
  runner?: "deno" | "docker";
  /** Further flags: the driver, its directories, `--stop-workers-on-exit`. */
  extra?: string[];
}

/** `nano-modal autoscaler` arguments: 300 ms ticks and workers of concurrency 4. */
export function autoscalerArgs(url: string, flags: AutoscalerFlags): string[] {
  return [
    "autoscaler",
    ...["--server", url, "--min", String(flags.min), "--max", String(flags.max)],
    ...["--interval-ms", "300", "--idle-ms", String(flags.idleMs ?? 60_000)],
    ...["--worker-concurrency", "4", "--worker-runner", flags.runner ?? "deno"],
    ...(flags.extra ?? []),
  ];
}

/** The most workers, and busy workers, seen at once while watching. */
export interface WorkerPeak {
  workers: number;
  busy: number;
}

/** Samples the status every 200 ms until `stop()`, which returns the peaks seen. */
export function watchWorkers(
  url: string,
  onStatus: (s: ClusterStatus) => void = () => {},
): { stop(): Promise<WorkerPeak> } {
  const peak = { workers: 0, busy: 0 };
  let done = false;
  const loop = (async () => {
    while (!done) {
      const s = await status(url).catch(() => undefined);
      if (s) {
        onStatus(s);
        peak.workers = Math.max(peak.workers, s.workers.length);
        peak.busy = Math.max(peak.busy, s.workers.filter((w) => w.busy > 0).length);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    async stop() {
      done = true;
      await loop;
      return peak;
    },
  };
}
