/**
 * Calls made by user code inside a sandbox (`fn.remote()` within a function)
 * arrive over the sandbox's unix socket; the worker makes them on the control
 * plane with `NestedCall`, naming the calling input and its lease. The sandbox
 * never holds a credential, and needs no network.
 */
import { Code, ConnectError, create, fromBinary, toBinary } from "../proto/deps.ts";
import type { createClient } from "../proto/deps.ts";
import {
  AwaitCallRequestSchema,
  AwaitCallResponseSchema,
  CallEventSchema,
  CallRequestSchema,
  CancelCallRequestSchema,
  CancelCallResponseSchema,
  LookupFunctionRequestSchema,
  LookupFunctionResponseSchema,
  SpawnResponseSchema,
  type WorkerService,
} from "../proto/messages.ts";
import type { NestedHandler } from "./_protocol.ts";

// deno-lint-ignore no-explicit-any
type AnySchema = any;

/** The methods user code may call, with their request and response messages. */
const METHODS: Record<string, [AnySchema, AnySchema]> = {
  call: [CallRequestSchema, CallEventSchema],
  spawn: [CallRequestSchema, SpawnResponseSchema],
  awaitCall: [AwaitCallRequestSchema, AwaitCallResponseSchema],
  lookupFunction: [LookupFunctionRequestSchema, LookupFunctionResponseSchema],
  cancelCall: [CancelCallRequestSchema, CancelCallResponseSchema],
};

/** What the handler needs from its worker. */
export interface NestedOptions {
  client: ReturnType<typeof createClient<typeof WorkerService>>;
  workerId: string;
  /** The lease token of an input this worker runs now, if it does. */
  leaseOf(inputId: string): string | undefined;
}

/** An error the sandbox can rebuild: a Connect code name and the message. */
class NestedError extends Error {
  constructor(readonly codeName: string, message: string) {
    super(message);
  }
}

/** Makes a {@linkcode NestedHandler} that relays calls to the control plane. */
export function nestedHandler(options: NestedOptions): NestedHandler {
  return async (inputId, method, req) => {
    const schemas = METHODS[method];
    if (!schemas) {
      throw new NestedError("InvalidArgument", `"${method}" cannot be called from a function`);
    }
    const leaseToken = options.leaseOf(inputId);
    if (!leaseToken) {
      throw new NestedError("FailedPrecondition", "The calling input is no longer running");
    }
    let request: Uint8Array;
    try {
      request = toBinary(schemas[0], create(schemas[0], req));
    } catch (err) {
      throw new NestedError("InvalidArgument", `Bad ${method} request: ${(err as Error).message}`);
    }
    try {
      const res = await options.client.nestedCall({
        workerId: options.workerId,
        inputId,
        leaseToken,
        method,
        request,
      });
      return fromBinary(schemas[1], res.response) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ConnectError) throw new NestedError(Code[err.code], err.rawMessage);
      throw new NestedError("Unavailable", (err as Error).message);
    }
  };
}
