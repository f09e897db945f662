/**
 * The options that make a function another kind: a web endpoint, a class, or
 * a scheduled function. Checked at definition, like every option.
 * @module
 */
import { InvalidError } from "./errors.ts";

/**
 * When a function of a deployed app runs by itself: a five-field cron
 * expression (`"m h dom mon dow"`, in `timezone`, UTC by default) or a fixed
 * interval.
 *
 * @example
 * ```ts
 * import type { Schedule } from "@nano/modal";
 * const nightly: Schedule = { cron: "0 3 * * *", timezone: "Europe/Paris" };
 * const often: Schedule = { everyMs: 60_000 };
 * console.log(nightly, often);
 * ```
 */
export type Schedule = { cron: string; timezone?: string } | { everyMs: number };

/** The kind a function's options resolve to (at most one of these is set). */
export interface ResolvedKind {
  /** Set for web endpoints. */
  web?: { requireToken: boolean };
  /** Set for classes. */
  cls?: { exitGraceMs: number };
  /** Set for scheduled functions. */
  schedule?: { cron: string; timezone: string; everyMs: number };
}

/** Checks a `schedule` option. */
export function resolveSchedule(where: string, value: unknown): ResolvedKind["schedule"] {
  if (value === undefined) return undefined;
  const s = value as Record<string, unknown>;
  const keys = typeof s === "object" && s !== null ? Object.keys(s).sort().join(",") : "";
  if (keys === "everyMs") {
    const ms = s.everyMs;
    if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 1_000 || ms > 31 * 86_400_000) {
      throw new InvalidError(
        `schedule.everyMs in ${where} must be a whole number of milliseconds from 1000 to 31 days`,
      );
    }
    return { cron: "", timezone: "", everyMs: ms };
  }
  if (keys === "cron" || keys === "cron,timezone") {
    if (typeof s.cron !== "string" || s.cron.trim().split(/\s+/).length !== 5) {
      throw new InvalidError(
        `schedule.cron in ${where} must have five fields "minute hour day-of-month month day-of-week", e.g. "0 3 * * *"`,
      );
    }
    const tz = s.timezone ?? "UTC";
    try {
      new Intl.DateTimeFormat("en", { timeZone: tz as string });
    } catch {
      throw new InvalidError(
        `schedule.timezone in ${where} is not a time zone: use an IANA name like "Europe/Paris"`,
      );
    }
    return { cron: s.cron.trim(), timezone: tz as string, everyMs: 0 };
  }
  throw new InvalidError(
    `schedule in ${where} must be { cron: "m h dom mon dow", timezone? } or { everyMs }`,
  );
}

/** Checks a class's `exitGraceMs`. */
export function resolveExitGrace(where: string, value: unknown): number {
  const ms = value ?? 30_000;
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > 3_600_000) {
    throw new InvalidError(`exitGraceMs in ${where} must be a whole number from 0 to 3600000`);
  }
  return ms;
}
