/**
 * The autoscaler's decisions for a backlog curve, with fake time, a fake
 * engine (workers that register on the next tick and take inputs up to their
 * capacity) and fake stats: no processes, no sockets.
 */
import assert from "node:assert/strict";
import {
  Autoscaler,
  type ClusterStats,
  Decider,
  type Driver,
  type ScalePolicy,
  type Unit,
  type WorkerLoad,
} from "../autoscale/mod.ts";
import { FakeClock } from "../proto/fake_clock.ts";

const POLICY: ScalePolicy = { min: 1, max: 5, targetBacklog: 0, idleMs: 10_000, workerCapacity: 4 };

/** An engine whose workers register one tick after they start and drain at once. */
class FakeEngine implements Driver {
  readonly name = "fake";
  units: { id: string; registered: boolean; draining: boolean }[] = [];
  started = 0;
  stopped: string[] = [];
  #next = 1;

  list(): Promise<Unit[]> {
    return Promise.resolve(this.units.map((u) => ({ id: u.id, draining: u.draining })));
  }
  matches(unit: Unit, worker: WorkerLoad): boolean {
    return worker.workerId === `wk-${unit.id}`;
  }
  start(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      this.units.push({ id: `u${this.#next++}`, registered: false, draining: false });
    }
    this.started += count;
    return Promise.resolve();
  }
  stop(units: Unit[]): Promise<void> {
    for (const u of units) {
      this.stopped.push(u.id);
      this.units = this.units.filter((x) => x.id !== u.id);
    }
    return Promise.resolve();
  }
  stopAll(): Promise<void> {
    return this.stop(this.units);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  /** Workers registered so far (those started last tick register now). */
  register(): void {
    for (const u of this.units) u.registered = true;
  }
}

/** A queue of `total` inputs that registered workers drain at `perTick` each per tick. */
function cluster(engine: FakeEngine) {
  let queued = 0;
  const stats = (): ClusterStats => {
    const live = engine.units.filter((u) => u.registered && !u.draining);
    let left = queued;
    const workers = live.map((u) => {
      const busy = Math.min(POLICY.workerCapacity, left);
      left -= busy;
      return { workerId: `wk-${u.id}`, hostname: "h", capacity: POLICY.workerCapacity, busy };
    });
    return { queued: left, workers };
  };
  return {
    stats,
    set queued(n: number) {
      queued = n;
    },
    get queued() {
      return queued;
    },
  };
}

Deno.test("the autoscaler follows a backlog curve: up several at once, down after idle, within bounds", async () => {
  const clock = new FakeClock(0);
  const engine = new FakeEngine();
  const c = cluster(engine);
  const lines: string[] = [];
  const scaler = new Autoscaler({
    driver: engine,
    stats: () => Promise.resolve(c.stats()),
    policy: POLICY,
    clock,
    log: (l) => lines.push(l),
  });
  const tick = async () => {
    const d = await scaler.tick();
    engine.register();
    await clock.tick(2_000);
    return d;
  };

  // Below --min: one worker, once.
  assert.equal((await tick())?.to, 1);
  assert.equal(await tick(), undefined);
  // A small backlog fits in free slots: no change.
  c.queued = 3;
  assert.equal(await tick(), undefined);
  // A big backlog: 4 held, 12 waiting over 1 worker of 4 => 3 more in one step.
  c.queued = 16;
  const up = await tick();
  assert.deepEqual([up?.from, up?.to, up?.start], [1, 4, 3]);
  // Workers on their way count: the same backlog starts nobody else.
  assert.equal(await tick(), undefined);
  // A huge backlog is capped at --max.
  c.queued = 400;
  const capped = await tick();
  assert.deepEqual([capped?.from, capped?.to], [4, 5]);
  assert.equal(await tick(), undefined);
  assert.equal(engine.units.length, 5);
  // The backlog shrinks to what 2 workers hold: 3 go idle, drained after --idle-ms, not before.
  c.queued = 8;
  for (let t = 0; t < 5; t++) assert.equal(await tick(), undefined, `tick ${t} is before idle-ms`);
  const down = await tick();
  assert.deepEqual([down?.from, down?.to, down?.stop.length], [5, 2, 3]);
  // Empty queue: down to --min, never below.
  c.queued = 0;
  for (let t = 0; t < 6; t++) await tick();
  assert.equal(engine.units.length, 1);
  for (let t = 0; t < 10; t++) assert.equal(await tick(), undefined);
  assert.equal(engine.units.length, 1);
  assert.equal(new Set(engine.stopped).size, 4, "each worker is drained once");
  // One log line per decision, saying why and from what to what.
  assert.equal(lines.length, 5);
  assert.match(lines[1], /^autoscaler: scale up 1 → 4 workers \(backlog: 12 inputs waiting/);
  assert.match(
    lines[3],
    /^autoscaler: scale down 5 → 2 workers \(3 workers idle for 10 s or more\)/,
  );
});

Deno.test("a worker that takes an input again is no longer idle", () => {
  const clock = new FakeClock(0);
  const decider = new Decider({ ...POLICY, min: 0 }, clock);
  const worker = (busy: number) => ({ workerId: "w", hostname: "h", capacity: 4, busy });
  assert.equal(
    decider.decide({ queued: 0, units: [{ id: "a", worker: worker(0) }], others: [] }),
    undefined,
  );
  clock.advance(9_000);
  assert.equal(
    decider.decide({ queued: 0, units: [{ id: "a", worker: worker(1) }], others: [] }),
    undefined,
  );
  clock.advance(9_000);
  assert.equal(
    decider.decide({ queued: 0, units: [{ id: "a", worker: worker(0) }], others: [] }),
    undefined,
  );
  clock.advance(10_000);
  assert.deepEqual(
    decider.decide({ queued: 0, units: [{ id: "a", worker: worker(0) }], others: [] })?.stop,
    ["a"],
  );
});

Deno.test("workers the driver does not run count as capacity, and --max above the count drains", () => {
  const decider = new Decider({ ...POLICY, min: 0, max: 2 }, new FakeClock(0));
  const other = { workerId: "fixed", hostname: "h", capacity: 8, busy: 0 };
  // 6 waiting fit in the fixed worker's 8 free slots.
  assert.equal(decider.decide({ queued: 6, units: [], others: [other] }), undefined);
  const over = decider.decide({
    queued: 0,
    units: [{ id: "a" }, { id: "b", worker: { ...other, workerId: "b", busy: 2 } }, { id: "c" }],
    others: [],
  });
  assert.deepEqual([over?.to, over?.stop.length], [2, 1]);
  assert.throws(() => new Decider({ ...POLICY, min: 3, max: 2 }, new FakeClock()), RangeError);
});
