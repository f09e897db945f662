/**
 * Waits for a call's first output and hands it over as the worker encoded it
 * (outputs stay opaque bytes end to end), with the app's log position that the
 * client prints up to first ("logs before result" in `proto/nano_modal.proto`).
 */
import type { Clock } from "../proto/clock.ts";
import type { CallRecord, Store } from "./store/mod.ts";

/** How long {@linkcode firstOutput} waits, on what clock, until what. */
export interface FirstOutputOptions {
  /** The service's clock. */
  clock: Clock;
  /** Longest wait; 0 looks once. */
  timeoutMs: number;
  /** Stops waiting (the client hung up). */
  signal?: AbortSignal;
}

/** The call's stored output and the log position to print first, or undefined after the wait. */
export async function firstOutput(
  store: Store,
  call: CallRecord,
  options: FirstOutputOptions,
): Promise<{ output: Uint8Array; logSeq: number } | undefined> {
  const { clock, signal } = options;
  const deadline = clock.now() + options.timeoutMs;
  const callId = call.callId;
  while (true) {
    const { outputs } = await store.outputs.readOutputs(callId, { cursor: 0, max: 1 });
    if (outputs.length) {
      return { output: outputs[0].data, logSeq: await store.logs.seq(call.appId) };
    }
    const left = deadline - clock.now();
    // An evicted call has no output to wait for (the caller's next fetch says it was evicted).
    if (left <= 0 || signal?.aborted || store.outputs.wasEvicted?.(callId)) return undefined;
    await store.outputs.waitOutputs(callId, {
      cursor: 0,
      timeoutMs: Math.min(left, 5_000),
      signal,
    });
  }
}
