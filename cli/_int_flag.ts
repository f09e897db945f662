/** Whole number flags of every subcommand, read within bounds. */
import { UsageError } from "./errors.ts";

/** Bounds and default of a whole number flag, for {@linkcode intFlag}. */
export interface IntFlagOptions {
  /** The value when the flag is absent. */
  default: number;
  /** Smallest value accepted. */
  min: number;
  /** Largest value accepted. */
  max: number;
}

/** Reads whole number flag `--name` (its parsed `value`) within bounds. */
export function intFlag(
  name: string,
  value: string | boolean | undefined,
  options: IntFlagOptions,
): number {
  const { min, max } = options;
  if (value === undefined) return options.default;
  const n = Number(value);
  if (typeof value !== "string" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}
