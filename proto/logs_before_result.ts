/**
 * The one constant of the "logs before result" protocol (documented at the top
 * of `nano_modal.proto`): each hop that holds a result until the logs printed
 * before it are through holds it this long at most, so a lagging log path
 * delays a result a little and never forever.
 * @module
 */

/**
 * Longest a result waits for the logs printed before it, at each hop (the
 * worker reading sync markers from a sandbox's pipes; the client following the
 * app's log stream up to an output's `log_seq`).
 *
 * @example
 * ```ts
 * import { LOGS_GRACE_MS } from "./logs_before_result.ts";
 * const waitMs = Math.min(LOGS_GRACE_MS, 500);
 * ```
 */
export const LOGS_GRACE_MS = 2_000;
