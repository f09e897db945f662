/**
 * The app lifecycle RPCs of `ControlService`: lookups by name, history,
 * rollback, kept logs, ephemeral heartbeats and cancelling calls.
 */
import { Code, ConnectError, create, type ServiceImpl, toBinary } from "../proto/deps.ts";
import { type ControlService, OutputSchema, ResultStatus } from "../proto/messages.ts";
import type { Store } from "./store/mod.ts";
import type { Clock } from "../proto/clock.ts";
import type { Deployments } from "./_deployments.ts";
import { isId } from "./_ids.ts";
import { invalid } from "./_validate.ts";
import { evictedError } from "./_outputs.ts";

type AppRpcs = Pick<
  ServiceImpl<typeof ControlService>,
  "appHeartbeat" | "lookupFunction" | "appHistory" | "rollbackApp" | "appLogs" | "cancelCall"
>;

/** What the app RPCs need beside the store. */
export interface AppRpcContext {
  deployments: Deployments;
  clock: Clock;
  /** Tells workers (on this control plane) to stop running these inputs. */
  cancelInputs(inputIds: string[]): void;
}

/** Implements the app lifecycle RPCs. */
export function createAppRpcs(store: Store, ctx: AppRpcContext): AppRpcs {
  const { deployments, clock } = ctx;
  return {
    async appHeartbeat(req) {
      if (!isId(req.appId, "ap")) invalid(`"${req.appId}" is not an app id`);
      const app = await store.apps.getApp(req.appId);
      if (!app) throw new ConnectError(`No app with id ${req.appId}`, Code.NotFound);
      if (app.stopped) {
        throw new ConnectError(
          `App "${app.name}" was stopped (its client stopped heartbeating, or \`app stop\`)`,
          Code.FailedPrecondition,
        );
      }
      if (app.ephemeral) await deployments.store.touchApp(req.appId, clock.now());
      return {};
    },

    async lookupFunction(req) {
      return await deployments.lookup(req.appName, req.functionName);
    },

    async appHistory(req) {
      return await deployments.history(req.name);
    },

    async rollbackApp(req) {
      return await deployments.rollback(req.name, req.version);
    },

    async appLogs(req) {
      return { lines: await deployments.recentLogs(req.name, req.maxLines) };
    },

    async cancelCall(req) {
      if (!isId(req.callId, "fc")) invalid(`"${req.callId}" is not a call id`);
      const call = await store.outputs.getCall(req.callId);
      if (!call) {
        throw evictedError(store, req.callId) ??
          new ConnectError(`No call with id ${req.callId}`, Code.NotFound);
      }
      const total = call.total ?? 0;
      const inputIds = Array.from({ length: total }, (_, i) => `${call.callId}:${i}`);
      // Completing each input ourselves drops it from the queue, and makes the
      // worker's later result (if it runs) a stale one the store rejects.
      await store.queue.complete(inputIds.map((inputId, idx) => ({
        inputId,
        leaseToken: null,
        output: {
          idx,
          data: toBinary(
            OutputSchema,
            create(OutputSchema, {
              idx,
              status: ResultStatus.CANCELLED,
              error: { name: "CancelledError", message: `Call ${call.callId} was cancelled` },
            }),
          ),
        },
      })));
      ctx.cancelInputs(inputIds);
      return {};
    },
  };
}
