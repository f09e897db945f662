/**
 * When a pool with a backlog starts more sandboxes: not at once (a burst that
 * the warm sandboxes clear in a moment should not start new ones), but once
 * the oldest waiting input has waited {@linkcode SCALE_UP_AFTER_MS}.
 *
 * Only waits that say something about the load count: a backlog is counted
 * from when a sandbox last joined (inputs waiting for a cold start say
 * nothing of how fast the warm ones go). A check that runs late (the
 * worker's own event loop was busy, so no sandbox could be served), or finds
 * a backlog the warm sandboxes would clear in a moment at their recent run
 * times (its wait came from a busy host, not from too few sandboxes), starts
 * the count afresh instead of scaling up.
 */
import type { Clock, TimerHandle } from "../proto/clock.ts";
import { SCALE_UP_AFTER_MS } from "./_pool_spec.ts";

/** A backlog of less work than this per slot (ms) starts no sandbox. */
export const MIN_BACKLOG_MS = 10;

/** One pending scale-up check at a time. */
export class ScaleUpTimer {
  readonly #clock: Clock;
  #timer: TimerHandle | undefined;
  /** Waits before this do not count. */
  #floorMs = -Infinity;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** A check is pending. */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** Waits so far no longer count (a sandbox joined, or the worker was busy). */
  restart(): void {
    this.#floorMs = this.#clock.now();
  }

  /**
   * Whether an input waiting since `sinceMs` has waited long enough to scale
   * up for, with `backlogMs` of work (by recent run times) waiting per slot.
   */
  due(sinceMs: number, backlogMs = Infinity): boolean {
    if (backlogMs < MIN_BACKLOG_MS) {
      this.restart();
      return false;
    }
    return this.#clock.now() - Math.max(sinceMs, this.#floorMs) >= SCALE_UP_AFTER_MS;
  }

  /** Runs `check` once an input waiting since `sinceMs` has waited long enough. */
  arm(sinceMs: number, check: () => void): void {
    const delayMs = Math.max(
      0,
      SCALE_UP_AFTER_MS - (this.#clock.now() - Math.max(sinceMs, this.#floorMs)),
    );
    const atMs = this.#clock.now() + delayMs;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      // Fired late: this process was busy, and its waiting inputs with it.
      if (this.#clock.now() - atMs > SCALE_UP_AFTER_MS / 2) this.restart();
      check();
    }, delayMs);
  }

  /** Drops the pending check. */
  cancel(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
