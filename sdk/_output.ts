/** Turns an `Output` from the wire into a value or the matching error. */
import { decodeValue } from "../proto/payload.ts";
import type { Output } from "../proto/messages.ts";
import { ResultStatus } from "../proto/result_status.ts";
import {
  CancelledError,
  FunctionTimeoutError,
  ImageBuildError,
  InternalFailure,
  InvalidError,
  OutOfMemoryError,
  RemoteError,
  ResultTooLargeError,
} from "./errors.ts";

/** The remote exception's `cause`, when its encoded value came along and decodes. */
function remoteCause(value: Uint8Array | undefined): unknown {
  if (!value?.byteLength) return undefined;
  try {
    const decoded = decodeValue(value);
    return decoded instanceof Error ? decoded.cause : undefined;
  } catch {
    return undefined; // name, message and stack still tell the story
  }
}

/** The error an unsuccessful output stands for. */
export function outputError(output: Output, fnName: string): Error {
  const err = output.error;
  switch (output.status) {
    case ResultStatus.TIMEOUT:
      return new FunctionTimeoutError(err?.message || `${fnName} timed out`);
    case ResultStatus.CANCELLED:
      return new CancelledError(err?.message || `${fnName} was cancelled`);
    case ResultStatus.INTERNAL_FAILURE:
      return new InternalFailure(err?.message || `${fnName} failed inside nano-modal`);
    case ResultStatus.FAILURE:
      if (err?.name === "OutOfMemoryError") return new OutOfMemoryError(err.message);
      if (err?.name === "ResultTooLargeError") return new ResultTooLargeError(err.message);
      if (err?.name === "ImageBuildError") return new ImageBuildError(err.message);
      // A worker refused the function's cpu or memoryMiB: fix the definition.
      if (err?.name === "CapacityError") return new InvalidError(err.message);
      return new RemoteError({
        name: err?.name || "Error",
        message: err?.message ?? "",
        stack: err?.stack ?? "",
      }, { cause: remoteCause(err?.value) });
    default:
      return new InternalFailure(
        `${fnName} returned an output with unknown status ${output.status}`,
      );
  }
}

/** The value of a successful output; throws the matching error otherwise. */
export function outputValue(output: Output, fnName: string): unknown {
  if (output.status === ResultStatus.SUCCESS) return decodeValue(output.payload);
  throw outputError(output, fnName);
}
