/**
 * The statuses of an `Output` (`ResultStatus` in proto/nano_modal.proto) as
 * plain numbers. The SDK's code that runs inside every sandbox reads them from
 * here: importing the generated enum evaluates the whole generated module and
 * protobuf's descriptor registry, ~10 ms at each sandbox's start for a
 * function that never makes a call. `proto/contract_test.ts` checks these
 * against the generated enum.
 * @module
 */

/** `ResultStatus`'s values, by name. */
export const ResultStatus = {
  UNSPECIFIED: 0,
  SUCCESS: 1,
  FAILURE: 2,
  TIMEOUT: 3,
  INTERNAL_FAILURE: 4,
  CANCELLED: 5,
} as const;
