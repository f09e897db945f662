/**
 * The pure parts of a {@linkcode FunctionPool} (`_pool.ts`): naming and
 * describing its sandboxes, counting them, picking the least busy one.
 */
import type { SandboxSpec } from "./runner.ts";
import type { WarmSandbox } from "./_warm_sandbox.ts";
import type { ContainerCounts, WorkerFigures } from "./_figures.ts";
import type { PoolSpec } from "./_pool_spec.ts";

/** The spec of the `n`th sandbox a pool starts (the worker gives it its socket dir). */
export function sandboxSpec(s: PoolSpec, n: number): Omit<SandboxSpec, "socketDir"> {
  const fn = s.def.name.slice(0, 24).toLowerCase().replace(/[^a-z0-9]/g, "");
  return {
    sandboxId: `nm-${s.appId.slice(3, 11)}-${fn}-${Deno.pid}-${n}`,
    appId: s.appId,
    appName: s.appName,
    functionName: s.def.name,
    def: s.def,
    bundlePath: s.bundlePath,
    entrypointPath: s.entrypointPath,
    onOutput: s.onOutput,
  };
}

/** Sandboxes by state: idle, busy with inputs, starting. */
export function countSandboxes(
  sandboxes: readonly WarmSandbox[],
  busy: ReadonlyMap<WarmSandbox, number>,
  starting: number,
): ContainerCounts {
  let idle = 0;
  let running = 0;
  for (const s of sandboxes) {
    if (!s.alive) continue;
    if ((busy.get(s) ?? 0) > 0) running++;
    else idle++;
  }
  return { idle, busy: running, starting };
}

/** The alive sandbox with the fewest inputs, if it has room under `slots`. */
export function leastBusy(
  sandboxes: readonly WarmSandbox[],
  busy: ReadonlyMap<WarmSandbox, number>,
  slots: number,
): WarmSandbox | undefined {
  let best: WarmSandbox | undefined;
  let load = slots;
  for (const s of sandboxes) {
    const n = busy.get(s) ?? 0;
    if (s.alive && n < load) {
      best = s;
      load = n;
    }
  }
  return best;
}

/** Announces a container event (`container.started`, ...) on the worker's event log. */
export function containerEvent(
  figures: WorkerFigures | undefined,
  spec: PoolSpec,
  e: { kind: string; sandbox: string; what: string },
): void {
  const { appName, def: { name } } = spec;
  figures?.events.event(e.kind, `container ${e.sandbox} ${e.what} (${appName}.${name})`, {
    container: e.sandbox,
    app: appName,
    function: name,
  });
}

/** Counts a sandbox that started (a cold start) and announces it. */
export function countStart(
  figures: WorkerFigures | undefined,
  spec: PoolSpec,
  sandbox: WarmSandbox,
): void {
  if (!figures) return;
  figures.coldStarts++;
  containerEvent(figures, spec, {
    kind: "container.started",
    sandbox: sandbox.id,
    what: "started",
  });
}
