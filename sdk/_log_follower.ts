/**
 * Follows an app's logs (`StreamLogs`) and prints them live, prefixed with
 * the function's name, reconnecting while the app runs. Results wait for the
 * logs written before them ({@linkcode LogFollower.before}), so a function's
 * output shows before its result: the last hop of the "logs before result"
 * protocol documented at the top of `proto/nano_modal.proto`.
 */
import type { Client } from "../proto/deps.ts";
import type { ControlService } from "../proto/messages.ts";
import { LOGS_GRACE_MS } from "../proto/logs_before_result.ts";
import { printLines } from "./_progress.ts";
import { sleep } from "./_rpc_errors.ts";

/** Prints one app's logs until {@linkcode LogFollower.stop}. */
export class LogFollower {
  readonly #ctl = new AbortController();
  readonly #done: Promise<void>;
  /** Sequence number of the last log batch printed, and who waits for more. */
  #printedSeq = 0;
  #waiters: { seq: number; resolve: () => void }[] = [];
  /** Set by {@linkcode LogFollower.finish}: the stream's end is the app's end, not a drop. */
  #ending = false;

  /** Starts following the logs of app `appId`. */
  constructor(client: Client<typeof ControlService>, appId: string) {
    this.#done = this.#follow(client, appId);
  }

  /** Resolves once the logs up to `logSeq` are printed (or after a grace period). */
  before(logSeq: number): Promise<void> {
    if (this.#ctl.signal.aborted || logSeq <= this.#printedSeq) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, LOGS_GRACE_MS);
      this.#waiters.push({ seq: logSeq, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Stops following and waits for the follower to finish. */
  async stop(): Promise<void> {
    this.#ctl.abort();
    for (const w of this.#waiters) w.resolve();
    this.#waiters = [];
    await this.#done;
  }

  /**
   * Waits for the server to end the stream of the app that `stopping` stops (it sends what
   * was published before the stop first), at most `maxWaitMs` once `stopping` settled; then
   * stops. The end may arrive before `stopping`'s answer does: it counts as the app's end
   * from the moment the stop is asked, not from its answer.
   */
  async finish(stopping: Promise<unknown>, maxWaitMs: number): Promise<void> {
    this.#ending = true;
    await stopping.catch(() => {});
    const timer = setTimeout(() => this.#ctl.abort(), maxWaitMs);
    try {
      await this.#done;
    } finally {
      clearTimeout(timer);
      await this.stop();
    }
  }

  async #follow(client: Client<typeof ControlService>, appId: string): Promise<void> {
    const signal = this.#ctl.signal;
    let backoffMs = 100;
    while (!signal.aborted) {
      try {
        for await (const batch of client.streamLogs({ appId }, { signal })) {
          backoffMs = 100;
          this.#printedSeq = Math.max(this.#printedSeq, batch.seq);
          for (const line of batch.lines) {
            const prefix = colorOut
              ? `\x1b[2m[${line.functionName}]\x1b[0m `
              : `[${line.functionName}] `;
            const text = line.text.endsWith("\n") ? line.text : `${line.text}\n`;
            printLines(line.fd === 1 ? 1 : 2, text.replace(/^(?=.)/gm, prefix));
          }
          this.#waiters = this.#waiters.filter((w) =>
            w.seq <= this.#printedSeq ? (w.resolve(), false) : true
          );
        }
      } catch {
        // The server went away or restarted: follow again once it is back.
      }
      if (this.#ending) break;
      if (!signal.aborted) await sleep(backoffMs = Math.min(backoffMs * 2, 2_000));
    }
  }
}

const colorOut = (() => {
  try {
    return Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
  } catch {
    return false;
  }
})();
