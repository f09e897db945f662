import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { Code, type ConnectError, create, toBinary } from "../proto/deps.ts";
import { OutputSchema } from "../proto/messages.ts";
import { RETENTION_MS, serviceFixture, SWEEP_MS, until } from "./_service_fixture.ts";

const CALL_ID = "fc-abcdefghijkl";

function output(idx: number) {
  return { idx, data: toBinary(OutputSchema, create(OutputSchema, { idx })) };
}

Deno.test("awaitCall() answers done: false once its timeout passes in fake time", async () => {
  const f = await serviceFixture();
  try {
    const { callId } = await f.control.spawn({ functionId: f.functionId, args: new Uint8Array() });
    const started = performance.now();
    let settled = false;
    const waiting = f.control.awaitCall({ callId, timeoutMs: 30_000 }).finally(() =>
      settled = true
    );
    await until(() => f.clock.pending > 1); // the sweeper's timer and the wait's
    await f.clock.tick(29_000);
    equal(settled, false, "still waiting before the timeout");
    await f.clock.tick(1_000);
    deepStrictEqual((await waiting).done, false);
    ok(performance.now() - started < 500, "30 s of fake time in milliseconds");
  } finally {
    await f.close();
  }
});

Deno.test("awaitCall() returns the output a worker records while it waits", async () => {
  const f = await serviceFixture();
  try {
    const { callId } = await f.control.spawn({ functionId: f.functionId, args: new Uint8Array() });
    const waiting = f.control.awaitCall({ callId, timeoutMs: 30_000 });
    await until(() => f.clock.pending > 1);
    const inputId = `${callId}:0`;
    deepStrictEqual(
      await f.store.queue.complete([{ inputId, leaseToken: null, output: output(0) }]),
      [
        true,
      ],
    );
    const res = await waiting;
    equal(res.done, true);
    deepStrictEqual(res.output, output(0).data, "the worker's bytes, not re-encoded");
  } finally {
    await f.close();
  }
});

Deno.test("a finished call is forgotten by the sweeper once idle past retention", async () => {
  const f = await serviceFixture();
  try {
    const { callId } = await f.control.spawn({ functionId: f.functionId, args: new Uint8Array() });
    await f.store.queue.complete([{ inputId: `${callId}:0`, leaseToken: null, output: output(0) }]);
    await f.clock.tick(RETENTION_MS);
    equal((await f.control.awaitCall({ callId, timeoutMs: 0 })).done, true, "kept for retention");
    await f.clock.tick(SWEEP_MS + 1);
    await rejects(
      f.control.awaitCall({ callId, timeoutMs: 0 }),
      (e: ConnectError) => e.code === Code.NotFound && /24 hours/.test(e.rawMessage),
    );
  } finally {
    await f.close();
  }
});

Deno.test("call() with a client-chosen id waits for its output; a repeat only waits", async () => {
  const f = await serviceFixture();
  try {
    const req = { callId: CALL_ID, functionId: f.functionId, args: new Uint8Array([1]) };
    const first = f.control.call(req);
    await until(async () => (await f.store.queue.depth())[f.functionId] === 1);
    const again = f.control.call(req);
    await f.store.queue.complete([{
      inputId: `${CALL_ID}:0`,
      leaseToken: null,
      output: output(0),
    }]);
    deepStrictEqual((await first).output, output(0).data);
    deepStrictEqual((await again).output, output(0).data);
    deepStrictEqual(await f.store.queue.depth(), {}, "the repeat queued nothing");
  } finally {
    await f.close();
  }
});

Deno.test("stopApp() drops the app's queued inputs and refuses new calls", async () => {
  const f = await serviceFixture();
  try {
    await f.control.spawn({ functionId: f.functionId, args: new Uint8Array() });
    await f.control.stopApp({ appId: f.appId });
    deepStrictEqual(await f.store.queue.depth(), {});
    await rejects(
      f.control.spawn({ functionId: f.functionId, args: new Uint8Array() }),
      (e: ConnectError) => e.code === Code.FailedPrecondition,
    );
    await rejects(
      f.control.stopApp({ appId: "ap-nope" }),
      (e: ConnectError) => e.code === Code.NotFound,
    );
  } finally {
    await f.close();
  }
});

Deno.test("a call evicted over the results budget says so on awaitCall() and on a repeat", async () => {
  // Room for a few small results: the oldest finished calls go first.
  const f = await serviceFixture({ retainedOutputBytes: 4_000 });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { callId } = await f.control.spawn({
        functionId: f.functionId,
        args: new Uint8Array(),
      });
      await f.store.queue.complete([{
        inputId: `${callId}:0`,
        leaseToken: null,
        output: output(0),
      }]);
      ids.push(callId);
    }
    equal((await f.control.awaitCall({ callId: ids[19], timeoutMs: 0 })).done, true, "the newest");
    const evicted = (e: unknown) =>
      (e as ConnectError).code === Code.NotFound &&
      /was evicted.*--results-mib/.test((e as ConnectError).rawMessage);
    await rejects(f.control.awaitCall({ callId: ids[0], timeoutMs: 0 }), evicted);
    const repeat = { callId: ids[0], functionId: f.functionId, args: new Uint8Array() };
    await rejects(f.control.call(repeat), evicted);
    deepStrictEqual(await f.store.queue.depth(), {}, "the repeat ran nothing again");
    await rejects(
      f.control.awaitCall({ callId: "fc-neverneverever", timeoutMs: 0 }),
      (e: unknown) => /No call with id/.test((e as ConnectError).rawMessage),
    );
  } finally {
    await f.close();
  }
});
