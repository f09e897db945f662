/**
 * Sync markers on a sandbox's two pipes: strips them from the output and
 * resolves results waiting until output up to a marker has been forwarded.
 * This is the first hop of the "logs before result" protocol documented at
 * the top of `proto/nano_modal.proto`.
 */
import type { Clock } from "../proto/clock.ts";
import { LOGS_GRACE_MS } from "../proto/logs_before_result.ts";
import { SYNC_MARKER } from "./_protocol.ts";

/** Tracks the highest sync marker seen on stdout and stderr of one sandbox. */
export class OutputSync {
  readonly #synced = [0, 0];
  #waiters: { seq: number; resolve: () => void }[] = [];
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Removes sync markers from `text` read on pipe `fd`, waking waiters they satisfy. */
  strip(fd: 1 | 2, text: string): string {
    if (!text.includes("\u0000nm-sync:")) return text;
    text = text.replace(SYNC_MARKER, (_m, seq: string) => {
      this.#synced[fd - 1] = Math.max(this.#synced[fd - 1], Number(seq));
      return "";
    });
    const low = Math.min(this.#synced[0], this.#synced[1]);
    this.#waiters = this.#waiters.filter((w) => w.seq <= low ? (w.resolve(), false) : true);
    return text;
  }

  /** Resolves once output up to marker `seq` has been forwarded (or after a short grace). */
  wait(seq: number): Promise<void> {
    if (Math.min(this.#synced[0], this.#synced[1]) >= seq) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(resolve, LOGS_GRACE_MS);
      this.#waiters.push({ seq, resolve: () => (this.#clock.clearTimeout(timer), resolve()) });
    });
  }
}
