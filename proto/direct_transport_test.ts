import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { Code, ConnectError, create, createClient } from "./deps.ts";
import { WorkerCommandSchema, type WorkerMessage, WorkerService } from "./messages.ts";
import { createDirectTransport } from "./direct_transport.ts";

Deno.test("a direct transport returns complete messages and passes ConnectErrors through", async () => {
  const client = createClient(
    WorkerService,
    createDirectTransport([[WorkerService, {
      getBundle(req: { hash: string }) {
        if (req.hash === "gone") throw new ConnectError("no such bundle", Code.NotFound);
        if (req.hash === "bug") throw new Error("plain failure");
        return {}; // a partial message: the caller still sees every field
      },
    }]]),
  );
  const res = await client.getBundle({ hash: "abc" });
  deepStrictEqual(res.data, new Uint8Array());
  await rejects(client.getBundle({ hash: "gone" }), (e) => {
    ok(e instanceof ConnectError);
    strictEqual(e.code, Code.NotFound);
    strictEqual(e.rawMessage, "no such bundle");
    return true;
  });
  await rejects(client.getBundle({ hash: "bug" }), (e) => e instanceof ConnectError);
  await rejects(client.getFunction({ functionId: "x" }), (e) => {
    strictEqual((e as ConnectError).code, Code.Unimplemented);
    return true;
  });
});

Deno.test("a direct stream: messages both ways, and an abort ends the handler's stream with its cleanup", async () => {
  const cleaned = Promise.withResolvers<boolean>();
  let handlerSignal: AbortSignal | undefined;
  const transport = createDirectTransport([[WorkerService, {
    async *work(messages: AsyncIterable<WorkerMessage>, ctx: { signal: AbortSignal }) {
      handlerSignal = ctx.signal;
      try {
        for await (const m of messages) {
          if (m.msg.case === "hello") {
            yield create(WorkerCommandSchema, { msg: { case: "ack", value: { results: 1 } } });
          }
        }
      } finally {
        cleaned.resolve(true);
      }
    },
  }]]);
  const client = createClient(WorkerService, transport);
  const abort = new AbortController();
  const never = Promise.withResolvers<void>();
  async function* out() {
    yield { msg: { case: "hello" as const, value: { workerId: "w", capacity: 1 } } };
    await never.promise; // the worker has nothing more to say
  }
  const seen: string[] = [];
  await rejects(
    (async () => {
      for await (const cmd of client.work(out(), { signal: abort.signal })) {
        seen.push(String(cmd.msg.case));
        abort.abort();
      }
    })(),
    (e) => e instanceof ConnectError && e.code === Code.Canceled,
  );
  deepStrictEqual(seen, ["ack"]);
  ok(handlerSignal?.aborted, "the handler's signal aborts with the caller's");
  never.resolve();
  strictEqual(await cleaned.promise, true);
});
