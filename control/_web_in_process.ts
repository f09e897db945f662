/**
 * The web stream of a worker in this process (`serve --with-workers`, `run`
 * without a server): its frames are handed over as objects, not encoded and
 * framed as the in-process Connect transport would. Every other method goes
 * through that transport unchanged.
 */
import type { Transport } from "../proto/deps.ts";
import { type WebFrames, WorkerService } from "../proto/messages.ts";

/** Serves `WorkerService/WebStream` (the gateway's `workerStream`). */
export type WebStreamServer = (
  messages: AsyncIterable<WebFrames>,
  context: { signal: AbortSignal; requestHeader?: Headers },
) => AsyncIterable<WebFrames>;

/** `transport`, with `WebStream` calls answered by `serve` directly. */
export function withInProcessWeb(transport: Transport, serve: WebStreamServer): Transport {
  const web: unknown = WorkerService.method.webStream;
  return {
    unary: (method, signal, timeoutMs, header, input, contextValues) =>
      transport.unary(method, signal, timeoutMs, header, input, contextValues),
    stream(method, signal, timeoutMs, header, input, contextValues) {
      if (method !== web) {
        return transport.stream(method, signal, timeoutMs, header, input, contextValues);
      }
      const message = serve(input as AsyncIterable<WebFrames>, {
        signal: signal ?? new AbortController().signal,
        requestHeader: new Headers(header),
      });
      const response = {
        stream: true,
        service: WorkerService,
        method,
        header: new Headers(),
        trailer: new Headers(),
        message,
      };
      // deno-lint-ignore no-explicit-any -- the frames are WebStream's own messages
      return Promise.resolve(response as any);
    },
  };
}
