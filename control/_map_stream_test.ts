import { equal, rejects } from "node:assert/strict";
import { Code, ConnectError, create } from "../proto/deps.ts";
import { type MapRequest, MapRequestSchema, OutputSchema } from "../proto/messages.ts";
import { FakeClock } from "../proto/fake_clock.ts";
import { createMemoryStore, type FunctionRecord } from "./store/mod.ts";
import { runMap } from "./_map_stream.ts";
import { newId } from "./_ids.ts";
import { packOutput } from "./_outputs.ts";

const fn = {
  functionId: "fu-x",
  appId: "ap-x",
  name: "x",
  def: new Uint8Array(),
} as FunctionRecord;

function options() {
  return {
    signal: new AbortController().signal,
    maxPending: 100,
    liveFunction: () => Promise.resolve(fn),
    newCall: (f: FunctionRecord, total: number | null) =>
      Promise.resolve({
        callId: newId("fc"),
        functionId: f.functionId,
        appId: f.appId,
        createdMs: 0,
        total,
      }),
    input: (call: { callId: string; functionId: string }, idx: number, args: Uint8Array) => ({
      inputId: `${call.callId}-${idx}`,
      callId: call.callId,
      functionId: call.functionId,
      idx,
      args,
      infraAttempt: 0,
    }),
  };
}

type Init = NonNullable<Parameters<typeof create<typeof MapRequestSchema>>[1]>;

async function* requests(msgs: Init["msg"][]): AsyncIterable<MapRequest> {
  for (const msg of msgs) yield create(MapRequestSchema, { msg } as Init);
}

Deno.test("a map's delivered outputs are released at once; a resume must already hold them", async () => {
  const store = createMemoryStore({ clock: new FakeClock() });
  const opts = options();
  const origNewCall = opts.newCall;
  opts.newCall = async (f, total) => {
    const call = await origNewCall(f, total);
    await store.outputs.createCall(call);
    return call;
  };
  const stream = runMap(
    store,
    requests([
      { case: "start", value: { functionId: fn.functionId, callId: "", haveIdx: [] } },
      { case: "inputs", value: { startIdx: 0, args: [new Uint8Array(1), new Uint8Array(1)] } },
      { case: "end", value: { total: 2 } },
    ]),
    opts,
  );
  const callId = (await stream.next()).value!.callId;
  const leases = await store.queue.lease("wk-1", { max: 10, leaseMs: 1000 });
  equal(leases.length, 2);
  await store.queue.complete(leases.map((l) => ({
    inputId: l.input.inputId,
    leaseToken: l.leaseToken,
    output: packOutput(create(OutputSchema, { idx: l.input.idx })),
  })));
  let received = 0;
  for await (const r of stream) received += r.outputs.length;
  equal(received, 2);
  equal(
    (store.outputs as unknown as { heldBytes: number }).heldBytes,
    0,
    "nothing held after delivery",
  );

  const resume = (haveIdx: number[]) =>
    runMap(
      store,
      requests([{ case: "start", value: { functionId: fn.functionId, callId, haveIdx } }]),
      opts,
    );
  let again = 0;
  for await (const r of resume([0, 1])) again += r.outputs.length;
  equal(again, 0, "a resume that holds every output ends at once");
  await rejects(
    async () => {
      for await (const _ of resume([0])) { /* drain */ }
    },
    (e: unknown) =>
      e instanceof ConnectError && e.code === Code.DataLoss &&
      /run the map again/.test(e.rawMessage),
  );
  await store.close();
});
