/** Durations on the command line: `90s`, `30m`, `12h`, `7d`, or `0`. */
import { UsageError } from "./errors.ts";

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of `text`; `flag` names it in the error. */
export function parseDuration(text: string, flag: string): number {
  const m = text.trim().match(/^(\d+(?:\.\d+)?)([smhd])?$/);
  if (!m || (!m[2] && Number(m[1]) !== 0)) {
    throw new UsageError(`${flag} takes a duration like 30m, 12h or 7d (or 0), got "${text}"`);
  }
  return Number(m[1]) * (m[2] ? UNIT_MS[m[2]] : 0);
}

/** `ms` as the largest whole unit that fits (`2d`, `5h`, `12m`, `30s`). */
export function formatAge(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000]] as const) {
    if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  }
  return `${Math.max(0, Math.floor(ms / 1000))}s`;
}
