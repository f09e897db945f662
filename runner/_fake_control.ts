/**
 * Test support: the server's half of `WorkerService` in memory, through
 * connect-es's router transport (no sockets). The test reads what the worker
 * sent on each `Work` stream and decides every command it gets back. Never
 * used in production code.
 */
import { AsyncQueue } from "../proto/async_queue.ts";
import { create, createRouterTransport, fromBinary, type Transport } from "../proto/deps.ts";
import {
  type FunctionDef,
  GetFunctionResponseSchema,
  type Output,
  OutputSchema,
  WorkAssignSchema,
  type WorkerCommand,
  WorkerCommandSchema,
  type WorkerMessage,
  WorkerService,
  type WorkResult,
} from "../proto/messages.ts";

/** One `Work` stream as the fake server saw it. */
export class FakeWorkStream {
  /** Everything the worker sent, in order. */
  readonly received: WorkerMessage[] = [];
  /** What the server sends; closing it (with an error) ends the stream. */
  readonly commands: AsyncQueue<WorkerCommand> = new AsyncQueue();

  /** Messages of one kind, in order. */
  sent<K extends NonNullable<WorkerMessage["msg"]["case"]>>(
    kind: K,
  ): Extract<WorkerMessage["msg"], { case: K }>["value"][] {
    return this.received.filter((m) => m.msg.case === kind).map((m) => m.msg.value) as never;
  }

  /** Every result sent on this stream. */
  get results(): WorkResult[] {
    return this.sent("results").flatMap((r) => r.results);
  }

  /** The decoded output of a result. */
  static output(result: WorkResult): Output {
    return fromBinary(OutputSchema, result.output);
  }

  /**
   * Leases inputs of function `fu-test` to the worker, describing the
   * function (its bundle: `bundleHash`) unless `described` is false (it was
   * described before). With no inputs and `start`, asks for its first
   * container now (a new ephemeral app's).
   */
  assign(
    def: FunctionDef,
    inputIds: string[],
    { described = true, bundleHash = "0".repeat(64), start = false } = {},
  ): void {
    const value = create(WorkAssignSchema, {
      leaseMs: 30_000,
      start,
      functions: described
        ? {
          "fu-test": create(GetFunctionResponseSchema, {
            appId: "ap-test0000",
            appName: "test",
            bundleHash,
            def,
          }),
        }
        : {},
      inputs: inputIds.map((inputId, idx) => ({
        inputId,
        leaseToken: `lt-${inputId}`,
        functionId: "fu-test",
        callId: "ca-test",
        idx,
        args: new Uint8Array(),
        infraAttempt: 0,
      })),
    });
    this.commands.push(create(WorkerCommandSchema, { msg: { case: "assign", value } }));
  }

  /** Confirms that the first `results` results of this stream are stored. */
  ack(results: number): void {
    this.commands.push(create(WorkerCommandSchema, { msg: { case: "ack", value: { results } } }));
  }
}

/** A fake control plane: its transport, and the streams workers opened on it. */
export interface FakeControl {
  transport: Transport;
  streams: FakeWorkStream[];
  /** The hashes of the bundles workers downloaded, in order. */
  bundles: string[];
}

/** Starts a fake control plane that serves a tiny bundle and records every stream. */
export function fakeControl(): FakeControl {
  const streams: FakeWorkStream[] = [];
  const bundles: string[] = [];
  const transport = createRouterTransport(({ service }) => {
    service(WorkerService, {
      getFunction: () => {
        throw new Error("the fake control plane describes functions in assign only");
      },
      getBundle: (req) => {
        bundles.push(req.hash);
        return { data: new TextEncoder().encode("export {};\n") };
      },
      async *work(messages) {
        const stream = new FakeWorkStream();
        streams.push(stream);
        (async () => {
          try {
            for await (const m of messages) stream.received.push(m);
          } catch {
            // The worker went away.
          } finally {
            // Like the real server: the stream ends with the worker's half.
            stream.commands.close();
          }
        })();
        yield* stream.commands;
      },
    });
  });
  return { transport, streams, bundles };
}
