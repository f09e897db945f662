/**
 * The scheduler's view of the store: the scheduled functions of running
 * deployed apps, and starting one run as a call.
 */
import { fromBinary } from "../proto/deps.ts";
import { encodeValue } from "../proto/payload.ts";
import { FunctionDefSchema } from "../proto/messages.ts";
import type { Clock } from "../proto/clock.ts";
import type { Store } from "./store/mod.ts";
import { newId } from "./_ids.ts";
import { type ScheduledFunction, Scheduler } from "./_scheduler.ts";

/** Scheduled functions of the current versions of deployed, running apps. */
export async function scheduledFunctions(store: Store): Promise<ScheduledFunction[]> {
  const found: ScheduledFunction[] = [];
  for (const d of await store.deployments.listDeployments()) {
    if (d.stopped) continue;
    const app = await store.apps.getApp(d.appId);
    if (!app || app.stopped) continue;
    for (const functionId of Object.values(app.functionIds)) {
      const record = await store.apps.getFunction(functionId);
      if (!record) continue;
      const def = fromBinary(FunctionDefSchema, record.def);
      if (!def.schedule) continue;
      const { cron, timezone, everyMs } = def.schedule;
      found.push({
        functionId,
        appId: app.appId,
        name: def.name,
        schedule: { cron, timezone, everyMs },
      });
    }
  }
  return found;
}

/** Starts one scheduled run: a call with no arguments, logged like any other. */
export async function startScheduledRun(
  store: Store,
  fn: ScheduledFunction,
  clock: Clock,
): Promise<void> {
  const callId = newId("fc");
  await store.outputs.createCall({
    callId,
    functionId: fn.functionId,
    appId: fn.appId,
    createdMs: clock.now(),
    total: 1,
  });
  await store.queue.enqueue([{
    inputId: `${callId}:0`,
    callId,
    functionId: fn.functionId,
    idx: 0,
    args: encodeValue([]),
    infraAttempt: 0,
  }]);
}

/**
 * The control plane's scheduler. Each tick is claimed in the store
 * (`store.ticks`), so of several control planes on one Redis exactly one
 * starts the run.
 */
export function startSchedules(store: Store, clock: Clock): { stop(): void } {
  const scheduler = new Scheduler({
    clock,
    list: () => scheduledFunctions(store),
    claim: (functionId, tickMs) => store.ticks.claim(functionId, tickMs),
    run: (fn) => startScheduledRun(store, fn, clock),
  });
  scheduler.start();
  return { stop: () => scheduler.stop() };
}
