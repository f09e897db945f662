/**
 * A Connect transport that calls service implementations in this process
 * directly: messages pass by reference, with no encoding and no HTTP. What
 * embedded workers use to reach their own control plane.
 *
 * connect-es's router transport encodes and decodes every message both ways
 * (a tenth of a millisecond per hop of a warm call), and its streaming calls
 * race each read against a promise that lives as long as the stream: a
 * worker's `Work` stream kept every input it was ever assigned. This one keeps
 * nothing past the read.
 *
 * Semantics match a real transport where callers can tell: requests and
 * responses are complete messages (defaults filled in), a handler's error
 * reaches the caller as a `ConnectError` (anything else becomes `unknown`),
 * the handler's signal aborts when the caller's does and when the call ends,
 * and a caller that aborts sees `canceled`.
 * @module
 */
import {
  Code,
  ConnectError,
  create,
  createHandlerContext,
  type DescMessage,
  type DescMethod,
  type DescService,
  isMessage,
  type ServiceImpl,
  type Transport,
} from "./deps.ts";

type AnyImpl = (request: unknown, context: ReturnType<typeof createHandlerContext>) => unknown;

/** Services and their implementations, as {@linkcode createDirectTransport} takes them. */
export type DirectServices = [DescService, object][];

function complete(schema: DescMessage, message: unknown) {
  // deno-lint-ignore no-explicit-any
  return isMessage(message, schema) ? message : create(schema, message as any);
}

function asConnectError(err: unknown, signal: AbortSignal | undefined): ConnectError {
  if (signal?.aborted && !(err instanceof ConnectError)) {
    return new ConnectError("the call was cancelled", Code.Canceled);
  }
  return ConnectError.from(err);
}

/** The request stream a handler reads: complete messages, in order. */
async function* requests(schema: DescMessage, input: AsyncIterable<unknown>) {
  for await (const m of input) yield complete(schema, m);
}

/**
 * A handler's response stream as the caller reads it. A read pending when the
 * caller aborts rejects at once with `canceled` (one abort listener per
 * stream, never one per read); ending the read early ends the handler's stream.
 */
function responses(
  schema: DescMessage,
  source: AsyncIterable<unknown>,
  call: { signal?: AbortSignal; end: (reason?: unknown) => void },
): AsyncIterable<unknown> {
  const it = source[Symbol.asyncIterator]();
  let rejectPending: ((err: unknown) => void) | undefined;
  const finish = (reason?: unknown) => {
    call.signal?.removeEventListener("abort", onAbort);
    call.end(reason);
  };
  // The caller stopped reading: end the handler's stream too, so its cleanup runs.
  const onAbort = () => {
    rejectPending?.(asConnectError(undefined, call.signal));
    rejectPending = undefined;
    finish();
    it.return?.().catch(() => {});
  };
  call.signal?.addEventListener("abort", onAbort, { once: true });
  return {
    [Symbol.asyncIterator]: () => ({
      next(): Promise<IteratorResult<unknown>> {
        if (call.signal?.aborted) {
          finish();
          return Promise.reject(asConnectError(undefined, call.signal));
        }
        return new Promise((resolve, reject) => {
          rejectPending = reject;
          it.next().then((r) => {
            rejectPending = undefined;
            if (r.done) finish();
            resolve(r.done ? r : { done: false, value: complete(schema, r.value) });
          }, (err) => {
            rejectPending = undefined;
            finish(err);
            reject(asConnectError(err, call.signal));
          });
        });
      },
      async return(): Promise<IteratorResult<unknown>> {
        finish();
        await it.return?.().catch(() => {});
        return { done: true, value: undefined };
      },
    }),
  };
}

/**
 * Creates a transport that calls `services` in this process.
 *
 * @example
 * ```ts ignore
 * import { createClient } from "./deps.ts";
 * import { WorkerService } from "./messages.ts";
 * const client = createClient(WorkerService, createDirectTransport([[WorkerService, impl]]));
 * ```
 */
export function createDirectTransport(services: DirectServices): Transport {
  const impls = new Map<DescMethod, AnyImpl>();
  for (const [service, impl] of services) {
    for (const method of service.methods) {
      const fn = (impl as Record<string, unknown>)[method.localName];
      if (typeof fn === "function") impls.set(method, fn.bind(impl) as AnyImpl);
    }
  }
  const context = (method: DescMethod, call: { signal?: AbortSignal; header?: HeadersInit }) =>
    createHandlerContext({
      service: method.parent,
      method,
      protocolName: "connect",
      requestMethod: "POST",
      url: `/${method.parent.typeName}/${method.name}`,
      requestSignal: call.signal,
      requestHeader: call.header,
    });
  const implOf = (method: DescMethod): AnyImpl => {
    const impl = impls.get(method);
    if (impl) return impl;
    throw new ConnectError(
      `${method.parent.typeName}.${method.name} is not served here`,
      Code.Unimplemented,
    );
  };
  const transport = {
    async unary(method, signal, _timeoutMs, header, input) {
      const ctx = context(method, { signal, header });
      try {
        const out = await implOf(method)(complete(method.input, input), ctx);
        if (signal?.aborted) throw asConnectError(undefined, signal);
        return {
          stream: false,
          service: method.parent,
          method,
          header: ctx.responseHeader,
          trailer: ctx.responseTrailer,
          message: complete(method.output, out),
        };
      } catch (err) {
        throw asConnectError(err, signal);
      } finally {
        ctx.abort();
      }
    },
    async stream(method, signal, _timeoutMs, header, input) {
      const ctx = context(method, { signal, header });
      try {
        const impl = implOf(method);
        const singleRequest = method.methodKind === "server_streaming";
        let request: unknown = requests(method.input, input);
        if (singleRequest) {
          for await (const m of input) request = complete(method.input, m);
        }
        const result = impl(request, ctx);
        const source = method.methodKind === "client_streaming"
          ? (async function* () {
            yield await result;
          })()
          : result as AsyncIterable<unknown>;
        return {
          stream: true,
          service: method.parent,
          method,
          header: ctx.responseHeader,
          trailer: ctx.responseTrailer,
          message: responses(method.output, source, { signal, end: (r) => ctx.abort(r) }),
        };
      } catch (err) {
        ctx.abort();
        throw asConnectError(err, signal);
      }
    },
  } as Transport;
  return transport;
}

/** The implementations of one service, typed. */
export function directService<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
): [DescService, object] {
  return [service, impl];
}
