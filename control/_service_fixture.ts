/**
 * Test support for the services: a memory store on fake time, an app with
 * one function, and both services behind connect-es's in-memory router
 * transport (no sockets), with the sweeper on the same fake clock.
 * @module
 */
import {
  create,
  createClient,
  createRouterTransport,
  type MessageInitShape,
  toBinary,
} from "../proto/deps.ts";
import {
  ControlService,
  type FunctionDef,
  FunctionDefSchema,
  WorkerService,
} from "../proto/messages.ts";
import { FakeClock } from "../proto/fake_clock.ts";
import { createMemoryStore, type Store } from "./store/mod.ts";
import { createControlService } from "./control_service.ts";
import { createWorkerService, WorkerHub } from "./worker_service.ts";
import { startSweeper, type Sweeper } from "./_sweeper.ts";

/** Everything a service test drives. */
export interface ServiceFixture {
  clock: FakeClock;
  store: Store;
  control: ReturnType<typeof createClient<typeof ControlService>>;
  worker: ReturnType<typeof createClient<typeof WorkerService>>;
  sweeper: Sweeper;
  appId: string;
  functionId: string;
  close(): Promise<void>;
}

/** Tuning the tests rely on. */
export const LEASE_MS = 1_000;
export const SWEEP_MS = 5_000;
export const RETENTION_MS = 60_000;

/** A small function's definition (1 s, 64 MiB, one CPU, one at a time, one container) with `more`. */
export function testFunctionDef(
  name: string,
  more: MessageInitShape<typeof FunctionDefSchema> = {},
): FunctionDef {
  return create(FunctionDefSchema, {
    name,
    timeoutMs: 1000,
    memoryMib: 64,
    cpu: 1,
    concurrency: 1,
    maxContainers: 1,
    ...more,
  });
}

/** Builds a fixture with app `ap-test` and its function `fu-square`. */
export async function serviceFixture(
  options: { retainedOutputBytes?: number } = {},
): Promise<ServiceFixture> {
  const clock = new FakeClock();
  const store = createMemoryStore({ clock, retentionMs: RETENTION_MS, ...options });
  const appId = "ap-test";
  const functionId = "fu-square";
  const def = testFunctionDef("square");
  await store.apps.putApp({
    appId,
    name: "test",
    ephemeral: true,
    stopped: false,
    createdMs: clock.now(),
    bundleHash: "0".repeat(64),
    entryUrl: "file:///app.ts",
    functionIds: { square: functionId },
  }, [{ functionId, appId, name: "square", def: toBinary(FunctionDefSchema, def) }]);
  const hub = new WorkerHub();
  const transport = createRouterTransport(({ service }) => {
    service(
      ControlService,
      createControlService(store, {
        version: "t",
        clock,
        onFunctionsStored: (ids, how) => hub.functionsStored(ids, how),
      }),
    );
    service(WorkerService, createWorkerService(store, { hub, clock, leaseMs: LEASE_MS }));
  });
  const sweeper = startSweeper(store, { clock, intervalMs: SWEEP_MS, maxInfraAttempts: 3 });
  return {
    clock,
    store,
    control: createClient(ControlService, transport),
    worker: createClient(WorkerService, transport),
    sweeper,
    appId,
    functionId,
    async close() {
      sweeper.stop();
      await store.close();
    },
  };
}

/** Waits in real time (up to 5 s) until `condition` holds. */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("Condition not met within 5 s");
    await new Promise((r) => setTimeout(r, 1));
  }
}
