/**
 * Checks a function's `cpu` and `memoryMiB` against what this worker's host
 * has, before any sandbox starts: a runner would otherwise fail with its own
 * words (Docker's `Range of CPUs is from 0.01 to 2.00`) or not enforce them.
 */
import type { FunctionDef } from "../proto/messages.ts";
import { CapacityError } from "./errors.ts";

/** What a host offers. */
export interface HostCapacity {
  cpus: number;
  memoryMiB: number;
}

/** This host's CPUs and memory. */
export function hostCapacity(): HostCapacity {
  let memoryMiB = Infinity;
  try {
    memoryMiB = Math.floor(Deno.systemMemoryInfo().total / (1024 * 1024));
  } catch {
    // Without --allow-sys the runner's own limit applies.
  }
  return { cpus: navigator.hardwareConcurrency || 1, memoryMiB };
}

/** Throws a {@linkcode CapacityError} when `def` asks for more than `host` has. */
export function checkCapacity(def: FunctionDef, host: HostCapacity, where: string): void {
  if (def.cpu > host.cpus) {
    throw new CapacityError(
      `${def.name} asks for cpu: ${def.cpu}, but ${where} has ${host.cpus} CPU${
        host.cpus === 1 ? "" : "s"
      }: lower cpu in app.function({ cpu }), or add a bigger worker`,
    );
  }
  if (def.memoryMib > host.memoryMiB) {
    throw new CapacityError(
      `${def.name} asks for memoryMiB: ${def.memoryMib}, but ${where} has ${host.memoryMiB} MiB: lower memoryMiB in app.function({ memoryMiB }), or add a bigger worker`,
    );
  }
}
