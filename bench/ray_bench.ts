/**
 * Ray, the peer the default-options figures are compared with: the same
 * trivial work (a 20,000-item batch of tasks and of actor calls, one warm task
 * and one warm actor call) run by `bench/_ray_job.py` with Ray's defaults.
 * Ray is installed once into a virtualenv in the bench cache
 * (`$XDG_CACHE_HOME/nano-modal-bench/ray-2.58`) by pip, from whatever package
 * index pip is configured with; where none offers it, the figures are skipped
 * with a note saying why.
 */
import type { Row } from "./_table.ts";

const RAY_VERSION = "2.58.0";
const JOB = new URL("./_ray_job.py", import.meta.url).pathname;

/** Ray's figures for the default-options benchmark. */
export interface RayFigures {
  version: string;
  tasksPerS: number;
  actorCallsPerS: number;
  taskP50Ms: number;
  actorP50Ms: number;
  peakRssMiB: number;
}

function cacheDir(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/nano-modal-bench/ray-${RAY_VERSION.split(".").slice(0, 2).join(".")}`;
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    return { ok: r.success, out };
  } catch (err) {
    return { ok: false, out: (err as Error).message };
  }
}

/** The virtualenv's python with Ray installed, or why there is none. */
async function rayPython(): Promise<{ python?: string; why?: string }> {
  const venv = cacheDir();
  const python = `${venv}/bin/python`;
  const probe = await run(python, ["-c", "import ray; print(ray.__version__)"]);
  if (probe.ok && probe.out.trim() === RAY_VERSION) return { python };
  console.error(`[bench] installing Ray ${RAY_VERSION} into ${venv} (once; a few minutes)...`);
  const venvMade = await run("python3", ["-m", "venv", venv]);
  if (!venvMade.ok) {
    return { why: `python3 -m venv failed: ${venvMade.out.trim().split("\n").pop()}` };
  }
  const pip = await run(`${venv}/bin/pip`, ["install", "-q", `ray==${RAY_VERSION}`]);
  if (!pip.ok) {
    await Deno.remove(venv, { recursive: true }).catch(() => {});
    return { why: `no package index here offers ray==${RAY_VERSION}` };
  }
  return { python };
}

/** Ray's figures for `n` items, or a note saying why they were skipped. */
export async function rayFigures(n = 20_000): Promise<RayFigures | { skipped: string }> {
  const { python, why } = await rayPython();
  if (!python) return { skipped: why! };
  console.error(`[bench] Ray ${RAY_VERSION}: ${n} tasks, ${n} actor calls, latencies...`);
  const r = await run(python, [JOB, String(n)]);
  const line = r.out.split("\n").find((l) => l.startsWith("{"));
  if (!r.ok || !line) return { skipped: `the Ray job failed: ${r.out.trim().slice(-300)}` };
  return JSON.parse(line) as RayFigures;
}

/** Rows of Ray's own figures (the defaults table puts them beside nano-modal's). */
export function rayRows(ray: RayFigures | { skipped: string }): Row[] {
  if ("skipped" in ray) return [{ name: "Ray (skipped)", value: ray.skipped }];
  const rate = (x: number) => `${Math.round(x).toLocaleString("en-US")}/s`;
  return [
    { name: `Ray ${ray.version}: 20,000 trivial tasks`, value: rate(ray.tasksPerS) },
    { name: `Ray ${ray.version}: 20,000 actor calls`, value: rate(ray.actorCallsPerS) },
    { name: `Ray ${ray.version}: warm task p50`, value: `${ray.taskP50Ms.toFixed(3)} ms` },
    { name: `Ray ${ray.version}: warm actor call p50`, value: `${ray.actorP50Ms.toFixed(3)} ms` },
    { name: `Ray ${ray.version}: peak RSS of its tree`, value: `${ray.peakRssMiB.toFixed(0)} MiB` },
  ];
}

/** `deno task bench ray`: Ray's figures alone. */
export async function rayBench(): Promise<Row[]> {
  return rayRows(await rayFigures());
}
