/**
 * The direct path of web requests: the workers connected to this control
 * plane hold a `WebStream` each (see `_web_peer.ts`), and a request for an
 * endpoint goes straight to one of them, with no store write and no queue.
 * A function sticks to the worker that served it last (its containers are
 * warm there). Without a stream here, the gateway takes the queued path. The
 * requests open on a worker's stream are its demand for containers (they
 * never pass through its work stream), so its allowance covers them.
 */
import { Code, ConnectError } from "../proto/deps.ts";
import type { WebFrames } from "../proto/messages.ts";
import { WebPeer } from "./_web_peer.ts";
import type { ShareBoard } from "./_share_board.ts";

/** How often requests past their deadline are answered with 504. */
const SWEEP_EVERY_MS = 1_000;

/** The web streams of the workers connected to this control plane. */
export class WebPeers {
  readonly #peers = new Set<WebPeer>();
  /** The stream that last took each function's requests. */
  readonly #sticky = new Map<string, WebPeer>();
  #timer?: ReturnType<typeof setInterval>;

  readonly #board?: ShareBoard;

  /** With `board`, the requests each worker has open count as its demand for containers. */
  constructor(board?: ShareBoard) {
    this.#board = board;
  }

  /** Serves one worker's `WebStream` (of worker `workerId`) until it ends or `signal` aborts. */
  async *serve(
    messages: AsyncIterable<WebFrames>,
    signal: AbortSignal,
    workerId?: string,
  ): AsyncGenerator<WebFrames> {
    const board = workerId ? this.#board : undefined;
    const peer = new WebPeer(board && ((fn) => board.webDemand(workerId!, fn)));
    const unregister = board?.webHeldBy(workerId!, () => peer.heldByFunction());
    this.#peers.add(peer);
    this.#sweepWhileOpen();
    const onAbort = () => peer.close();
    signal.addEventListener("abort", onAbort);
    (async () => {
      try {
        for await (const batch of messages) peer.take(batch);
        peer.close();
      } catch (err) {
        // The worker went away (its open requests fail), or sent what does not parse.
        peer.close(err instanceof ConnectError && err.code === Code.Canceled ? undefined : err);
      }
    })();
    try {
      yield* peer.out;
    } finally {
      unregister?.();
      signal.removeEventListener("abort", onAbort);
      this.#peers.delete(peer);
      peer.close();
      for (const [fn, p] of this.#sticky) if (p === peer) this.#sticky.delete(fn);
    }
  }

  /** The stream to send a request of `functionId` on, if any worker here has one open. */
  pick(functionId: string): WebPeer | undefined {
    const sticky = this.#sticky.get(functionId);
    if (sticky?.open) return sticky;
    let best: WebPeer | undefined;
    for (const p of this.#peers) if (p.open && (!best || p.load < best.load)) best = p;
    if (best) this.#sticky.set(functionId, best);
    return best;
  }

  #sweepWhileOpen(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      const now = performance.now();
      for (const p of this.#peers) p.sweep(now);
      if (this.#peers.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    }, SWEEP_EVERY_MS);
    Deno.unrefTimer(this.#timer as unknown as number);
  }
}
