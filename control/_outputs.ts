/**
 * The outputs the control plane makes itself (lost inputs), encoded like the
 * workers' so that every output reaches clients as the same opaque bytes.
 */
import { Code, ConnectError, create, toBinary } from "../proto/deps.ts";
import { type Output, OutputSchema, ResultStatus } from "../proto/messages.ts";
import type { InputRecord, OutputRecord, Store } from "./store/mod.ts";

/** Encodes an output for storage. */
export function packOutput(output: Output): OutputRecord {
  return { idx: output.idx, data: toBinary(OutputSchema, output) };
}

/** The output of an input that kept taking its worker or sandbox down. */
export function infraFailure(input: InputRecord, maxInfraAttempts: number): OutputRecord {
  return packOutput(create(OutputSchema, {
    idx: input.idx,
    status: ResultStatus.INTERNAL_FAILURE,
    error: {
      name: "InternalFailure",
      message:
        `Input ${input.idx} was lost with its worker or container ${input.infraAttempt} times (limit ${maxInfraAttempts}); it may be crashing the process that runs it`,
    },
  }));
}

/** Fails inputs that exhausted their infrastructure retries, once each. */
export async function failExhausted(
  store: Store,
  exhausted: InputRecord[],
  maxInfraAttempts: number,
): Promise<void> {
  if (exhausted.length === 0) return;
  await store.queue.complete(exhausted.map((input) => ({
    inputId: input.inputId,
    leaseToken: null,
    output: infraFailure(input, maxInfraAttempts),
  })));
}

/**
 * The error for a fetch of a call the store evicted to stay under its byte budget (memory and
 * embedded stores), or undefined when the call was not evicted.
 */
export function evictedError(store: Store, callId: string): ConnectError | undefined {
  if (!store.outputs.wasEvicted?.(callId)) return undefined;
  return new ConnectError(
    `The result of call ${callId} was evicted: this server keeps results in memory under a byte budget, oldest evicted first (serve --results-mib, default 64): fetch results sooner, or start serve with a larger budget`,
    Code.NotFound,
  );
}
