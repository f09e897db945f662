/**
 * The client-facing RPCs: apps, bundles, calls, maps and logs.
 * @module
 */
import { Code, ConnectError, type ServiceImpl, toBinary } from "../proto/deps.ts";
import { type ControlService, type FunctionDef, FunctionDefSchema } from "../proto/messages.ts";
import type { AppRecord, CallRecord, FunctionRecord, InputRecord, Store } from "./store/mod.ts";
import { type Clock, systemClock } from "../proto/clock.ts";
import { isId, newId } from "./_ids.ts";
import { checkFunctionDef, checkName, invalid } from "./_validate.ts";
import { runMap } from "./_map_stream.ts";
import { firstOutput } from "./_first_output.ts";
import { evictedError } from "./_outputs.ts";
import { clusterStats } from "./_cluster_stats.ts";
import { LogStreams } from "./_log_streams.ts";
import { sha256Hex } from "../proto/content_hash.ts";
import { type AppRpcContext, createAppRpcs } from "./_app_rpcs.ts";
import { Deployments } from "./_deployments.ts";
import { stopAppRecord } from "./_stop_app.ts";
import { imageFiles } from "./_blob_sweep.ts";

/** Tuning of the control service. */
export interface ControlServiceOptions {
  /** Version string reported by `Ping`. */
  version: string;
  /** Inputs of one map that may wait unfinished before the server stops reading more. */
  maxPendingPerMap?: number;
  /** Called when an app stops (workers drop its containers). */
  onAppStopped?: (appId: string) => void;
  /** Called when an app is created (the event log, the dashboard). */
  onAppCreated?: (app: AppRecord) => void;
  /** An app's functions are stored: these have minContainers to warm before any input. */
  onWarm?: (functionIds: string[]) => void;
  /**
   * An app's functions are stored (all of them): workers may fetch what they need now, and with
   * `start` (a new ephemeral app) one may start their first containers.
   */
  onFunctionsStored?: (functionIds: string[], options: { start: boolean }) => void;
  /** Called when an autoscaler reports a decision (metrics, the event log). */
  onScaling?: (decision: { from: number; to: number; reason: string }) => void;
  /** Time for deadlines, waits and records. @default systemClock */
  clock?: Clock;
  /**
   * Deployed apps, ephemeral heartbeats and cancelling (see `_app_rpcs.ts`).
   * @default over `store`, telling no workers
   */
  apps?: AppRpcContext;
}

const HEX64 = /^[0-9a-f]{64}$/;
const MAX_WAIT_MS = 55_000;
/** A worker that has not been heard from for this long is not counted as live. */
const WORKER_STALE_MS = 60_000;

/** Implements `ControlService` over a store. */
export function createControlService(
  store: Store,
  options: ControlServiceOptions,
): ServiceImpl<typeof ControlService> {
  const clock = options.clock ?? systemClock;
  const maxPending = options.maxPendingPerMap ?? 100_000;

  const apps: AppRpcContext = options.apps ?? {
    deployments: new Deployments(store, clock, { stopped() {}, drained() {} }),
    clock,
    cancelInputs() {},
  };
  const { deployments } = apps;
  const logStreams = new LogStreams(store, deployments, clock);

  /**
   * The function a new call runs; for a deployed app, the current version's
   * (`current: false` keeps the given one, to resume a call already made).
   */
  async function liveFunction(functionId: string, current = true): Promise<FunctionRecord> {
    if (!isId(functionId, "fu")) invalid(`"${functionId}" is not a function id`);
    const fn = await store.apps.getFunction(functionId);
    if (!fn) throw new ConnectError(`No function with id ${functionId}`, Code.NotFound);
    const app = await store.apps.getApp(fn.appId);
    if (app && !app.ephemeral && current) return await deployments.current(fn, app);
    if (!app || app.stopped) {
      throw new ConnectError(
        app?.ephemeral === false
          ? `App "${app.name}" is stopped: deploy it again with \`nano-modal deploy\``
          : `App "${app?.name ?? fn.appId}" of function ${fn.name} has stopped: run it again`,
        Code.FailedPrecondition,
      );
    }
    return fn;
  }

  async function newCall(
    fn: FunctionRecord,
    total: number | null,
    callId = newId("fc"),
  ): Promise<CallRecord> {
    const call: CallRecord = {
      callId,
      functionId: fn.functionId,
      appId: fn.appId,
      createdMs: clock.now(),
      total,
    };
    await store.outputs.createCall(call);
    return call;
  }

  function input(call: CallRecord, idx: number, args: Uint8Array): InputRecord {
    return {
      inputId: `${call.callId}:${idx}`,
      callId: call.callId,
      functionId: call.functionId,
      idx,
      args,
      infraAttempt: 0,
    };
  }

  return {
    ...createAppRpcs(store, apps),

    ping() {
      return { version: options.version, backend: store.kind };
    },

    async putBundle(req) {
      if (!HEX64.test(req.hash)) invalid("hash must be the hex SHA-256 of the bundle");
      if (req.data.length === 0) return { present: await store.blobs.has(req.hash) };
      if (await sha256Hex(req.data) !== req.hash) {
        invalid("bundle data does not match its hash: upload it again");
      }
      await store.blobs.put(req.hash, req.data);
      return { present: true };
    },

    async createApp(req) {
      checkName("app name", req.name);
      if (!HEX64.test(req.bundleHash)) invalid("bundle_hash must be the hex SHA-256 of a bundle");
      if (!(await store.blobs.has(req.bundleHash))) {
        throw new ConnectError(
          "Bundle not uploaded: call PutBundle first",
          Code.FailedPrecondition,
        );
      }
      if (req.functions.length === 0) invalid("an app needs at least one function");
      if (req.functions.length > 1000) invalid("an app may have at most 1000 functions");
      const names = new Set<string>();
      for (const def of req.functions) {
        checkFunctionDef(def);
        if (names.has(def.name)) invalid(`function "${def.name}" is defined twice`);
        names.add(def.name);
      }
      const appId = newId("ap");
      const functions: FunctionRecord[] = req.functions.map((def: FunctionDef) => ({
        functionId: newId("fu"),
        appId,
        name: def.name,
        def: toBinary(FunctionDefSchema, def),
      }));
      const functionIds = Object.fromEntries(functions.map((f) => [f.name, f.functionId]));
      const app: AppRecord = {
        appId,
        name: req.name,
        ephemeral: req.ephemeral,
        stopped: false,
        createdMs: clock.now(),
        bundleHash: req.bundleHash,
        entryUrl: req.entryUrl,
        functionIds,
        imageFiles: [...new Set(req.functions.flatMap(imageFiles))],
      };
      options.onAppCreated?.(app);
      const warm = functions.filter((_, i) => req.functions[i].minContainers > 0)
        .map((f) => f.functionId);
      if (!req.ephemeral) {
        const res = await deployments.deploy(app, functions);
        options.onFunctionsStored?.(functions.map((f) => f.functionId), { start: false });
        options.onWarm?.(warm);
        return res;
      }
      await store.apps.putApp(app, functions);
      if (!req.detached) await store.deployments.touchApp(appId, clock.now());
      // A run calls its app as soon as it exists: its first containers start now.
      options.onFunctionsStored?.(functions.map((f) => f.functionId), { start: true });
      options.onWarm?.(warm);
      return { appId, functionIds };
    },

    async stopApp(req) {
      if (req.name) {
        await deployments.stop(req.name);
        return {};
      }
      if (!isId(req.appId, "ap")) invalid(`"${req.appId}" is not an app id`);
      if (!(await stopAppRecord(store, req.appId))) {
        throw new ConnectError(`No app with id ${req.appId}`, Code.NotFound);
      }
      await store.deployments.forgetApp(req.appId);
      options.onAppStopped?.(req.appId);
      // Its log followers on this control plane are done: end their streams.
      logStreams.end(req.appId);
      return {};
    },

    async listApps() {
      // Deployed apps show once, as their current version; ephemeral ones as they are.
      const [apps, deployed] = await Promise.all([
        store.apps.listApps(),
        store.deployments.listDeployments(),
      ]);
      const byId = new Map(apps.map((a) => [a.appId, a]));
      return {
        apps: [
          ...deployed.map((d) => ({
            appId: d.appId,
            name: d.name,
            ephemeral: false,
            stopped: d.stopped,
            createdMs: d.createdMs,
            functionNames: Object.keys(byId.get(d.appId)?.functionIds ?? {}),
            version: d.version,
          })),
          ...apps.filter((a) => a.ephemeral).map((a) => ({
            appId: a.appId,
            name: a.name,
            ephemeral: true,
            stopped: a.stopped,
            createdMs: a.createdMs,
            functionNames: Object.keys(a.functionIds),
          })),
        ],
      };
    },

    async call(req, ctx) {
      if (!/^fc-[0-9a-z]{12,64}$/.test(req.callId)) {
        invalid("call_id must be fc- and 12 to 64 lowercase letters or digits");
      }
      let call = await store.outputs.getCall(req.callId);
      // A repeat of a call made before a redeploy stays on the version it ran.
      const fn = await liveFunction(call ? call.functionId : req.functionId, !call);
      if (call && call.functionId !== fn.functionId) {
        invalid(`call ${req.callId} belongs to another function`);
      }
      if (!call) {
        // A repeat of a call whose result was evicted says so rather than running it again.
        const evicted = evictedError(store, req.callId);
        if (evicted) throw evicted;
        // The client chose the id; a repeat of the same call only waits for it.
        call = await newCall(fn, 1, req.callId);
        await store.queue.enqueue([input(call, 0, req.args)]);
      }
      const found = await firstOutput(store, call, {
        clock,
        timeoutMs: MAX_WAIT_MS,
        signal: ctx.signal,
      });
      return { callId: call.callId, ...found };
    },

    async spawn(req) {
      const fn = await liveFunction(req.functionId);
      // An id chosen by the control plane itself (nested calls) is kept; clients get a new one.
      const chosen = isId(req.callId, "fc") && !(await store.outputs.getCall(req.callId));
      const call = await newCall(fn, 1, chosen ? req.callId : undefined);
      await store.queue.enqueue([input(call, 0, req.args)]);
      return { callId: call.callId };
    },

    async awaitCall(req, ctx) {
      if (!isId(req.callId, "fc")) invalid(`"${req.callId}" is not a call id`);
      const call = await store.outputs.getCall(req.callId);
      if (!call) {
        throw evictedError(store, req.callId) ?? new ConnectError(
          `No call with id ${req.callId} (results are kept for 24 hours)`,
          Code.NotFound,
        );
      }
      const timeoutMs = Math.min(req.timeoutMs, MAX_WAIT_MS);
      const found = await firstOutput(store, call, { clock, timeoutMs, signal: ctx.signal });
      return found ? { done: true, ...found } : { done: false };
    },

    map(requests, ctx) {
      return runMap(store, requests, {
        signal: ctx.signal,
        maxPending,
        liveFunction,
        newCall,
        input,
      });
    },

    reportScaling(req) {
      options.onScaling?.({ from: req.from, to: req.to, reason: req.reason.slice(0, 200) });
      return {};
    },

    getStats() {
      return clusterStats(store, { clock, staleMs: WORKER_STALE_MS });
    },

    streamLogs(req, ctx) {
      return logStreams.follow(req, ctx.signal);
    },
  };
}
