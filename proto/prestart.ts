/**
 * Which functions of a new ephemeral app get a container before their first
 * input (`WorkAssign.start`): the control plane asks for them, and the worker
 * starts them, by the same rule.
 * @module
 */

/**
 * Functions of a new ephemeral app whose first container starts before any input, at most:
 * a run calls its app at once, but an app of many functions calls few of them first.
 */
export const MAX_PRESTART = 4;

/**
 * Whether a function's first container may start before its first input. Not:
 * - a class's (its containers belong to its instances);
 * - one that mounts volumes: a container sees a volume as it was when the container
 *   started, and a run's first call must see what its entrypoint wrote there just before
 *   (`vol.write`, then `.remote()`);
 * - one with `minContainers` (its warm duty starts those, on the worker that holds it);
 * - a scheduled one (schedules fire for deployed apps only).
 */
export function prestartable(
  def: { volumes?: readonly unknown[]; cls?: unknown; minContainers?: number; schedule?: unknown },
): boolean {
  return !(def.volumes?.length) && !def.cls && !((def.minContainers ?? 0) > 0) && !def.schedule;
}
