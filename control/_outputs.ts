/** Encoding of outputs for the backend, and the outputs the control plane makes itself. */
import { create, fromBinary, toBinary } from "../proto/mod.ts";
import { type Output, OutputSchema, ResultStatus } from "../proto/messages.ts";
import type { InputRecord, OutputRecord } from "./backend.ts";

/** Encodes an output for storage. */
export function packOutput(output: Output): OutputRecord {
  return { idx: output.idx, data: toBinary(OutputSchema, output) };
}

/** Decodes a stored output. */
export function unpackOutput(record: OutputRecord): Output {
  return fromBinary(OutputSchema, record.data);
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
