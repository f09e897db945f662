import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  create,
  createClient,
  createConnectRouter,
  createFetchHandler,
  createRouterTransport,
  type ServiceImpl,
  toBinary,
} from "../proto/deps.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { ControlService, MapResponseSchema, OutputSchema } from "../proto/messages.ts";
import { mapStream } from "./_map_stream.ts";
import { type EncodedInputs, encodeItems, inputOrder } from "./_map_inputs.ts";

/** A Map handler that answers each batch with one output per input; `sizes` gets the sizes. */
function echoMap(sizes: number[] = []): Partial<ServiceImpl<typeof ControlService>> {
  return {
    async *map(requests) {
      let total = -1;
      for await (const req of requests) {
        if (req.msg.case === "start") {
          yield create(MapResponseSchema, { callId: "fc-test" });
        } else if (req.msg.case === "inputs") {
          const { startIdx, args } = req.msg.value;
          sizes.push(args.length);
          yield create(MapResponseSchema, {
            callId: "fc-test",
            inputsAcked: startIdx + args.length,
            outputs: args.map((_, i) =>
              toBinary(OutputSchema, create(OutputSchema, { idx: startIdx + i }))
            ),
          });
        } else if (req.msg.case === "end") total = req.msg.value.total;
        if (total >= 0) return;
      }
    },
  };
}

/** A server that answers each batch of a map with one output per input; `sizes` gets the sizes. */
function echoMapTransport(sizes: number[] = []) {
  return createRouterTransport(({ service }) => service(ControlService, echoMap(sizes)));
}

/** A map of `inputs` through `transport`. */
function mapOver(
  transport:
    | ReturnType<typeof echoMapTransport>
    | ReturnType<typeof createRpcTransport>["transport"],
  inputs: EncodedInputs,
) {
  return mapStream({
    client: createClient(ControlService, transport),
    serverUrl: "http://test.invalid",
    functionId: "fu-test",
    inputs,
    label: "test.map",
    logsBefore: () => Promise.resolve(),
  });
}

Deno.test("a map sends a small first batch (a worker starts on it while the rest are stored), then doubles up to full batches", async () => {
  const sizes: number[] = [];
  const transport = echoMapTransport(sizes);
  const n = 3_000;
  async function* inputs() {
    for (let i = 0; i < n; i++) yield new Uint8Array([i & 0xff]);
  }
  const seen = new Set<number>();
  for await (
    const out of mapOver(transport, inputs())
  ) seen.add(out.idx);
  strictEqual(seen.size, n);
  deepStrictEqual(sizes, [32, 64, 128, 256, 512, 1024, 984]);
});

Deno.test("a map lets the event loop turn between batches, so the transport sends the first before the rest are encoded", async () => {
  const transport = echoMapTransport();
  const n = 5_000;
  let produced = 0;
  async function* inputs() {
    for (; produced < n; produced++) yield new Uint8Array([produced & 0xff]);
  }
  // A socket's write waits for a turn of the event loop like this one does.
  let producedAtFirstTurn = -1;
  setImmediate(() => producedAtFirstTurn = produced);
  let count = 0;
  for await (
    const _ of mapOver(transport, inputs())
  ) count++;
  strictEqual(count, n);
  // The first batch (32) and at most the one being encoded when the loop turned.
  ok(producedAtFirstTurn >= 0 && producedAtFirstTurn <= 32 + 64, `${producedAtFirstTurn}`);
});

Deno.test("over real HTTP/2, a map's first outputs arrive while its later inputs are still being encoded", async () => {
  // The echo handler behind Deno.serve and the SDK's own transport: the connection reads and
  // writes only when the client's event loop waits, which the map must let it do between batches.
  const router = createConnectRouter();
  router.service(ControlService, echoMap());
  const handle = createFetchHandler(router.handlers.find((h) => h.method.name === "Map")!);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handle);
  const rpc = createRpcTransport({ baseUrl: `http://127.0.0.1:${server.addr.port}` });
  try {
    const n = 20_000;
    let produced = 0;
    const source = encodeItems(
      (function* () {
        for (; produced < n; produced++) yield produced;
      })(),
      (i: number) => new Uint8Array([i & 0xff]),
    );
    let producedAtFirstOutput = -1;
    let count = 0;
    for await (const _ of mapOver(rpc.transport, source)) {
      if (count++ === 0) producedAtFirstOutput = produced;
    }
    strictEqual(count, n);
    // A loop that never waited sent the stream's first bytes only once all 20,000 were encoded.
    ok(producedAtFirstOutput < n / 2, `first output after ${producedAtFirstOutput} of ${n}`);
  } finally {
    rpc.close();
    await server.shutdown();
  }
});

Deno.test("a sync source is pulled a batch at a time, with no turn of the event loop between its inputs", async () => {
  const sizes: number[] = [];
  const transport = echoMapTransport(sizes);
  let pulled = 0;
  let awaitedBetween = 0;
  const source = encodeItems(
    (function* () {
      for (; pulled < 100; pulled++) yield pulled;
    })(),
    (x) => new Uint8Array([x]),
  );
  ok(!(Symbol.asyncIterator in source), "an array or generator stays sync");
  // A microtask queued while the first batch is pulled runs only once that batch is whole.
  queueMicrotask(() => awaitedBetween = pulled);
  const seen: number[] = [];
  for await (const out of mapOver(transport, source)) seen.push(out.idx);
  deepStrictEqual(seen.sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  deepStrictEqual(sizes, [32, 64, 4]);
  ok(awaitedBetween === 0 || awaitedBetween >= 32, `${awaitedBetween}`);
});

Deno.test("items given as promises are awaited in order, and a rejected one fails the map", async () => {
  const transport = echoMapTransport();
  const items = [1, Promise.resolve(2), 3, new Promise<number>((r) => setTimeout(() => r(4), 5))];
  const encoded = encodeItems(items, (x) => new Uint8Array([x]));
  const seen: number[] = [];
  for await (const out of mapOver(transport, encoded)) seen.push(out.idx);
  deepStrictEqual(seen, [0, 1, 2, 3]);
  const failing = encodeItems(
    [1, Promise.reject(new Error("no input"))],
    (x) => new Uint8Array([x]),
  );
  let failed: unknown;
  try {
    for await (const _ of mapOver(transport, failing)) { /* drain */ }
  } catch (err) {
    failed = err;
  }
  ok(failed instanceof Error && /no input/.test(failed.message), String(failed));
});

Deno.test("inputOrder hands outputs back in input order, or as they come without order", () => {
  const out = (idx: number) => create(OutputSchema, { idx });
  const due = inputOrder(true);
  deepStrictEqual(due(out(2)).map((o) => o.idx), []);
  deepStrictEqual(due(out(1)).map((o) => o.idx), []);
  deepStrictEqual(due(out(0)).map((o) => o.idx), [0, 1, 2]);
  deepStrictEqual(due(out(3)).map((o) => o.idx), [3]);
  const asTheyCome = inputOrder(false);
  deepStrictEqual(asTheyCome(out(5)).map((o) => o.idx), [5]);
});
