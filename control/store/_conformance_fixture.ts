/**
 * What the conformance cases share: the fixture a per-store test file
 * builds, how cases are registered, and small record builders. Private test
 * support: each `_x_conformance.ts` holds one contract's cases, and
 * `memory_store_test.ts`, `redis_store_test.ts` run them all.
 * @module
 */
import type { FakeClock } from "../../proto/fake_clock.ts";
import type { Store } from "./store.ts";
import type { InputRecord, Lease } from "./call_queue.ts";
import type { AppRecord, FunctionRecord } from "./app_store.ts";
import type { OutputRecord } from "./output_store.ts";

/** A fresh, empty store driven by `clock`, built with {@linkcode RETENTION_MS}. */
export interface StoreFixture {
  store: Store;
  clock: FakeClock;
  teardown: () => Promise<void>;
}

/** Builds a fixture for one test. */
export type StoreSetup = () => Promise<StoreFixture>;

/** One conformance case. */
export type Case = (f: StoreFixture) => Promise<void>;

/** The retention every fixture's store must be built with. */
export const RETENTION_MS = 60_000;
/** The lease length the cases use. */
export const LEASE_MS = 30_000;
/** The infrastructure retry budget the cases use. */
export const MAX_INFRA = 2;

/** Registers `cases` as tests named `"<store> <contract>: <case>"`. */
export function registerCases(
  name: string,
  contract: string,
  cases: Record<string, Case>,
  setup: StoreSetup,
): void {
  for (const [title, body] of Object.entries(cases)) {
    Deno.test(`${name} ${contract}: ${title}`, async () => {
      const fixture = await setup();
      try {
        await body(fixture);
      } finally {
        await fixture.teardown();
      }
    });
  }
}

/** Resolves to `true` if `promise` settles within `ms` of real time. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Input `idx` of `callId`, with arguments that include bytes JSON would mangle. */
export function input(callId: string, idx: number, functionId = "fn-a"): InputRecord {
  const args = new Uint8Array([idx % 256, 0, 255, 10, 13]);
  return { inputId: `${callId}-in-${idx}`, callId, functionId, idx, args, infraAttempt: 0 };
}

/** Inputs 0..n-1 of `callId`. */
export function inputs(callId: string, n: number, functionId = "fn-a"): InputRecord[] {
  return Array.from({ length: n }, (_, i) => input(callId, i, functionId));
}

/** An output with a recognisable body. */
export function output(idx: number, text = `out-${idx}`): OutputRecord {
  return { idx, data: new TextEncoder().encode(text) };
}

/** Records a call of unknown size. */
export async function newCall(store: Store, callId: string, functionId = "fn-a"): Promise<void> {
  await store.outputs.createCall({ callId, functionId, appId: "app-1", createdMs: 1, total: null });
}

/** The input ids of some leases. */
export function ids(leases: Lease[]): string[] {
  return leases.map((l) => l.input.inputId);
}

/** What `requeue()` takes for a lease. */
export function held(lease: Lease): { inputId: string; leaseToken: string } {
  return { inputId: lease.input.inputId, leaseToken: lease.leaseToken };
}

/** Completes a lease with {@linkcode output}. */
export function completeLease(store: Store, lease: Lease, text?: string): Promise<boolean[]> {
  const { inputId, idx } = lease.input;
  return store.queue.complete([{
    inputId,
    leaseToken: lease.leaseToken,
    output: output(idx, text),
  }]);
}

/** An app record. */
export function app(appId: string, functionIds: Record<string, string>): AppRecord {
  const base = { name: appId, ephemeral: false, stopped: false, createdMs: 5, bundleHash: "h" };
  return { ...base, appId, entryUrl: "file:///app.ts", functionIds };
}

/** A function record. */
export function fnRecord(functionId: string, appId: string): FunctionRecord {
  return { functionId, appId, name: functionId, def: new Uint8Array([1, 2, 0, 10]) };
}

/** Waits (in real time, up to 5 s) until `clock` has at least `n` timers pending. */
export async function timersPending(clock: FakeClock, n = 1): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (clock.pending < n) {
    if (Date.now() > deadline) throw new Error(`Expected ${n} fake timers, have ${clock.pending}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}
