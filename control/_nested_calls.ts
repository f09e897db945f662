/**
 * Calls made from inside functions, relayed by their worker (`NestedCall`).
 * The calling input's lease is the credential: valid only while that input
 * runs on that worker, and scoped to its app — a function may call its own
 * app's functions and deployed apps' functions, and wait on or cancel calls
 * of those. Nesting depth is limited so that a function calling itself
 * without end cannot flood the cluster.
 */
import {
  Code,
  ConnectError,
  create,
  fromBinary,
  type HandlerContext,
  type ServiceImpl,
  toBinary,
} from "../proto/deps.ts";
import {
  AwaitCallRequestSchema,
  AwaitCallResponseSchema,
  CallEventSchema,
  CallRequestSchema,
  CancelCallRequestSchema,
  CancelCallResponseSchema,
  type ControlService,
  LookupFunctionRequestSchema,
  LookupFunctionResponseSchema,
  type NestedCallRequest,
  SpawnResponseSchema,
} from "../proto/messages.ts";
import type { Store } from "./store/mod.ts";
import { isId, newId } from "./_ids.ts";
import { invalid } from "./_validate.ts";

/** How deep calls from inside functions may nest. */
export const MAX_NESTING_DEPTH = 8;
/** How long a call's depth is remembered (its calls are made while it runs). */
const DEPTH_TTL_MS = 24 * 3_600_000;

function denied(message: string): never {
  throw new ConnectError(message, Code.PermissionDenied);
}

/** Makes the `NestedCall` handler over the control service's own handlers. */
export function createNestedCalls(
  all: Store,
  control: ServiceImpl<typeof ControlService>,
  leaseMs: number,
): (req: NestedCallRequest, ctx: HandlerContext) => Promise<{ response: Uint8Array }> {
  const store = all.deployments;
  /** Whether the caller's app may use the function or call of `appId`. */
  async function inScope(callerAppId: string, appId: string): Promise<boolean> {
    if (appId === callerAppId) return true;
    const app = await all.apps.getApp(appId);
    return app !== undefined && !app.ephemeral;
  }

  async function newCallDepth(parentCallId: string): Promise<number> {
    const depth = await store.callDepth(parentCallId) + 1;
    if (depth > MAX_NESTING_DEPTH) {
      throw new ConnectError(
        `Calls from inside functions nest at most ${MAX_NESTING_DEPTH} deep: this one would be ${depth} deep (does a function call itself with no base case?)`,
        Code.ResourceExhausted,
      );
    }
    return depth;
  }

  return async (req, ctx) => {
    if (!isId(req.inputId.split(":")[0], "fc") || !/^[\w.-]{1,128}$/.test(req.workerId)) {
      invalid("input_id and worker_id must name an input this worker runs");
    }
    // The credential: the input must be leased to this worker right now.
    const lost = await all.queue.renew(req.workerId, { inputIds: [req.inputId], leaseMs });
    if (lost.length) denied("The calling input no longer runs on this worker");
    const parent = await all.outputs.getCall(req.inputId.split(":")[0]);
    if (!parent) denied("The calling input's call is gone");

    switch (req.method) {
      case "lookupFunction": {
        const q = fromBinary(LookupFunctionRequestSchema, req.request);
        if (!q.appName) {
          const app = await all.apps.getApp(parent.appId);
          const functionId = app?.functionIds[q.functionName];
          if (!functionId) {
            throw new ConnectError(
              `Function "${q.functionName}" is not part of app "${app?.name}"`,
              Code.NotFound,
            );
          }
          const res = create(LookupFunctionResponseSchema, { functionId, appId: parent.appId });
          return { response: toBinary(LookupFunctionResponseSchema, res) };
        }
        const res = await control.lookupFunction(q, ctx);
        return {
          response: toBinary(
            LookupFunctionResponseSchema,
            create(LookupFunctionResponseSchema, res),
          ),
        };
      }
      case "call":
      case "spawn": {
        const q = fromBinary(CallRequestSchema, req.request);
        const fn = isId(q.functionId, "fu") ? await all.apps.getFunction(q.functionId) : undefined;
        if (fn && !(await inScope(parent.appId, fn.appId))) {
          denied("A function may call functions of its own app and of deployed apps only");
        }
        const depth = await newCallDepth(parent.callId);
        if (req.method === "spawn") q.callId = newId("fc");
        await store.setCallDepth(q.callId, depth, DEPTH_TTL_MS);
        if (req.method === "call") {
          const res = await control.call(q, ctx);
          return { response: toBinary(CallEventSchema, create(CallEventSchema, res)) };
        }
        const res = await control.spawn(q, ctx);
        return { response: toBinary(SpawnResponseSchema, create(SpawnResponseSchema, res)) };
      }
      case "awaitCall":
      case "cancelCall": {
        const schema = req.method === "awaitCall"
          ? AwaitCallRequestSchema
          : CancelCallRequestSchema;
        const q = fromBinary(schema, req.request);
        const call = isId(q.callId, "fc") ? await all.outputs.getCall(q.callId) : undefined;
        if (call && !(await inScope(parent.appId, call.appId))) {
          denied("A function may wait on or cancel calls of its own app and of deployed apps only");
        }
        if (req.method === "awaitCall") {
          const res = await control.awaitCall(q as never, ctx);
          return {
            response: toBinary(AwaitCallResponseSchema, create(AwaitCallResponseSchema, res)),
          };
        }
        await control.cancelCall(q as never, ctx);
        return { response: toBinary(CancelCallResponseSchema, create(CancelCallResponseSchema)) };
      }
      default:
        invalid(`"${req.method.slice(0, 40)}" cannot be called from inside a function`);
    }
  };
}
