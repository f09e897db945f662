import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { create } from "../proto/deps.ts";
import {
  FunctionDefSchema,
  GetFunctionResponseSchema,
  type WorkerCommand,
} from "../proto/messages.ts";
import { FakeClock } from "../proto/fake_clock.ts";
import { ALLOWANCE_SEQ_FIGURE } from "../proto/heartbeat_figures.ts";
import { connectRedisStore, createMemoryStore, type Store } from "./store/mod.ts";
import { startRedis } from "../tests/mod.ts";
import { ClusterShare, PRESTART_HOLD_MS, UNMET_RETRY_MS } from "./_cluster_share.ts";
import { ShareBoard } from "./_share_board.ts";
import { WARM_HOLDER_STALE_MS } from "./_warm_duty.ts";

const FN = "fu-slow";
const LEASE_MS = 30_000;

function cluster(
  def: { maxContainers: number; minContainers?: number },
  options: { clock?: FakeClock; store?: Store } = {},
) {
  const clock = options.clock ?? new FakeClock();
  const store = options.store ?? createMemoryStore({ clock });
  const board = new ShareBoard();
  const described = create(GetFunctionResponseSchema, {
    appId: "ap-1",
    def: create(FunctionDefSchema, { name: "slow", concurrency: 1, ...def }),
  });
  board.loadCandidatesWith(
    () => Promise.resolve(new Set(def.minContainers ? [FN] : [])),
    clock,
  );
  const worker = (workerId: string) => {
    const w = {
      held: {} as Record<string, number>,
      containers: {} as Record<string, number>,
      sent: [] as WorkerCommand[],
      share: undefined as unknown as ClusterShare,
      save: () =>
        store.workers.heartbeat({
          workerId,
          capacity: 32,
          runner: "deno",
          hostname: "h",
          lastSeenMs: clock.now(),
          running: w.held,
          containers: w.containers,
          ...w.share.fields(),
        }),
      /** The allowance last sent, per function. */
      allowed: () => {
        const last = w.sent.filter((c) => c.msg.case === "allowance").at(-1);
        return last?.msg.case === "allowance" ? last.msg.value : undefined;
      },
      warmed: () => w.sent.filter((c) => c.msg.case === "warm").length > 0,
    };
    w.share = new ClusterShare({
      workerId,
      store,
      clock,
      leaseMs: LEASE_MS,
      board,
      describe: () => Promise.resolve(described),
      held: () => w.held,
      containers: () => w.containers,
      send: (cmd) => w.sent.push(cmd),
      save: w.save,
    });
    return w;
  };
  return { clock, store, board, worker };
}

/** What the work stream does on a heartbeat: acknowledge, save the record, check again. */
async function heartbeat(w: ReturnType<ReturnType<typeof cluster>["worker"]>) {
  w.share.acknowledge({ [ALLOWANCE_SEQ_FIGURE]: w.allowed()?.seq ?? 0 });
  await w.save();
  await w.share.heartbeat();
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
};

Deno.test("two workers answered at once split maxContainers 2 one each", async () => {
  const c = cluster({ maxContainers: 2 });
  const [a, b] = [c.worker("wk-a"), c.worker("wk-b")];
  a.held = { [FN]: 4 };
  b.held = { [FN]: 4 };
  await Promise.all([a.save(), b.save()]);
  await Promise.all([a.share.beforeAssign([FN]), b.share.beforeAssign([FN])]);
  strictEqual(a.allowed()?.containers[FN], 1);
  strictEqual(b.allowed()?.containers[FN], 1);
  a.share.close();
  b.share.close();
});

Deno.test("a lowered allowance counts at its old value until the worker acknowledges it", async () => {
  const c = cluster({ maxContainers: 2 });
  const [a, b] = [c.worker("wk-a"), c.worker("wk-b")];
  // a alone with a backlog takes both containers.
  a.held = { [FN]: 4 };
  await a.save();
  await a.share.beforeAssign([FN]);
  strictEqual(a.allowed()?.containers[FN], 2);
  a.containers = { [FN]: 2 };
  await heartbeat(a);
  // b gets a backlog: nothing is free, so b is short and a is asked to give one back.
  b.held = { [FN]: 4 };
  await b.save();
  await b.share.beforeAssign([FN]);
  await settle();
  strictEqual(b.allowed()?.containers[FN] ?? 0, 0, "a still holds both");
  strictEqual(a.allowed()?.containers[FN], 1, "a was cut to its fair share");
  // a has not applied it yet: b's retries still find nothing free.
  await c.clock.tick(UNMET_RETRY_MS);
  await settle();
  strictEqual(b.allowed()?.containers[FN] ?? 0, 0, "a's old allowance still counts");
  // a applied it and stopped a container.
  a.containers = { [FN]: 1 };
  await heartbeat(a);
  await c.clock.tick(UNMET_RETRY_MS);
  await settle();
  strictEqual(b.allowed()?.containers[FN], 1, "b gets the container a gave back");
  a.share.close();
  b.share.close();
});

Deno.test("a worker silent past the lease no longer holds its containers", async () => {
  const c = cluster({ maxContainers: 2 });
  const [a, b] = [c.worker("wk-a"), c.worker("wk-b")];
  a.held = { [FN]: 4 };
  a.containers = { [FN]: 2 };
  await a.save();
  b.held = { [FN]: 4 };
  await b.save();
  await b.share.beforeAssign([FN]);
  strictEqual(b.allowed()?.containers[FN] ?? 0, 0);
  a.share.close(); // its stream hangs: no more heartbeats
  await c.clock.tick(LEASE_MS + UNMET_RETRY_MS);
  await settle();
  strictEqual(b.allowed()?.containers[FN], 2);
  b.share.close();
});

Deno.test("one worker takes a warm duty; another takes it when the holder leaves", async () => {
  const c = cluster({ maxContainers: 4, minContainers: 2 });
  const ws = [c.worker("wk-a"), c.worker("wk-b"), c.worker("wk-c")];
  for (const w of ws) await w.save();
  await Promise.all(ws.map((w) => w.share.checkWarm()));
  const holders = ws.filter((w) => w.warmed());
  strictEqual(holders.length, 1, "exactly one holder");
  const holder = holders[0];
  deepStrictEqual(holder.share.fields().warm, [FN]);
  strictEqual(holder.allowed()?.containers[FN], 2, "allowed its minContainers");
  // Checking again changes nothing.
  await Promise.all(ws.map((w) => w.share.checkWarm()));
  strictEqual(ws.filter((w) => w.warmed()).length, 1);
  // The holder falls silent; the others keep heartbeating.
  holder.share.close();
  const rest = ws.filter((w) => w !== holder);
  await c.clock.tick(WARM_HOLDER_STALE_MS + 1);
  for (const w of rest) await w.save();
  await Promise.all(rest.map((w) => w.share.heartbeat()));
  const next = rest.filter((w) => w.warmed());
  strictEqual(next.length, 1, "exactly one new holder");
  ok(next[0].share.fields().warm?.includes(FN));
  for (const w of rest) w.share.close();
});

Deno.test("two control planes on one Redis store split maxContainers and one warm duty", async () => {
  const server = await startRedis();
  const clock = new FakeClock();
  const stores = await Promise.all(
    [1, 2].map(() => connectRedisStore(server.url, { clock, keyPrefix: "share:" })),
  );
  try {
    // Each worker's stream lives on its own control plane (own board, own connection).
    const def = { maxContainers: 2, minContainers: 1 };
    const a = cluster(def, { clock, store: stores[0] }).worker("wk-a");
    const b = cluster(def, { clock, store: stores[1] }).worker("wk-b");
    a.held = { [FN]: 4 };
    b.held = { [FN]: 4 };
    await b.save();
    await a.save();
    await a.share.beforeAssign([FN]);
    await b.share.beforeAssign([FN]);
    const total = (a.allowed()?.containers[FN] ?? 0) + (b.allowed()?.containers[FN] ?? 0);
    strictEqual(total, 2, "one each: each control plane saw the other's worker in the store");
    strictEqual(a.allowed()?.containers[FN], 1);
    await a.share.checkWarm();
    await b.share.checkWarm();
    strictEqual([a, b].filter((w) => w.warmed()).length, 1, "one warm duty between them");
    a.share.close();
    b.share.close();
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await server.stop();
  }
});

Deno.test("a container started ahead of any input has an allowance of one, kept once the worker reports it", async () => {
  const c = cluster({ maxContainers: 5 });
  const [a, b] = [c.worker("wk-a"), c.worker("wk-b")];
  await Promise.all([a.save(), b.save()]);
  deepStrictEqual(await a.share.beforePrestart([FN]), [FN]);
  strictEqual(a.allowed()?.containers[FN], 1, "no input held, yet one container");
  // Still starting at the next heartbeat: kept.
  await heartbeat(a);
  strictEqual(a.allowed()?.containers[FN], 1);
  // It started: kept past the hold, as any idle container is.
  a.containers = { [FN]: 1 };
  await c.clock.tick(PRESTART_HOLD_MS);
  await heartbeat(a);
  strictEqual(a.allowed()?.containers[FN], 1);
  // One that never started loses its allowance after the hold.
  await b.share.beforePrestart([FN]);
  strictEqual(b.allowed()?.containers[FN], 1);
  await c.clock.tick(PRESTART_HOLD_MS);
  await heartbeat(b);
  strictEqual(b.allowed()?.containers[FN] ?? 0, 0);
  a.share.close();
  b.share.close();
});

Deno.test("a container started ahead of any input takes no room another worker holds (maxContainers 1)", async () => {
  const c = cluster({ maxContainers: 1 });
  const [a, b] = [c.worker("wk-a"), c.worker("wk-b")];
  a.held = { [FN]: 3 };
  await Promise.all([a.save(), b.save()]);
  await a.share.beforeAssign([FN]);
  strictEqual(a.allowed()?.containers[FN], 1);
  deepStrictEqual(await b.share.beforePrestart([FN]), [], "a holds the only one: not granted");
  strictEqual(b.allowed(), undefined, "and no allowance sent (the worker is not asked to start)");
  // Not asked for again: b wants nothing, so a keeps its container.
  await c.clock.tick(UNMET_RETRY_MS);
  await settle();
  strictEqual(a.allowed()?.containers[FN], 1);
  a.share.close();
  b.share.close();
});
