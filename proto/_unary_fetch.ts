/**
 * Unary Connect calls straight over `fetch`: what connect-es's Connect
 * transport does for a unary RPC with binary messages and no compression (the
 * only kind our clients make), without its per-call pipeline of async
 * iterables and interceptors. The request and response are the same bytes,
 * and every check and error comes from connect-es's own protocol helpers, so
 * callers see the same `ConnectError`s: HTTP errors by status, the server's
 * JSON error body, `canceled` when the caller's signal aborts,
 * `deadline_exceeded` past `timeoutMs`.
 */
import {
  appendHeaders,
  Code,
  ConnectError,
  create,
  errorFromJsonBytes,
  fromBinary,
  isMessage,
  requestHeader,
  toBinary,
  trailerDemux,
  type Transport,
  validateResponse,
} from "./deps.ts";

/** Where and how {@linkcode unaryOverFetch} calls. */
export interface UnaryFetchOptions {
  /** The control plane, without a trailing slash. */
  baseUrl: string;
  /** Deno's HTTP/2 client. */
  client: Deno.HttpClient;
  /** The `Authorization` header, when there is a token. */
  authorization?: string;
  /** Largest response body accepted. */
  readMaxBytes: number;
}

function failure(err: unknown, signal: AbortSignal): ConnectError {
  if (signal.aborted) {
    const reason = signal.reason;
    if (reason instanceof DOMException && reason.name === "TimeoutError") {
      return new ConnectError("the operation timed out", Code.DeadlineExceeded);
    }
    return ConnectError.from(reason, Code.Canceled);
  }
  return ConnectError.from(err);
}

/** A transport's `unary` that calls over `fetch`. */
export function unaryOverFetch(options: UnaryFetchOptions): Transport["unary"] {
  const { baseUrl, client, authorization, readMaxBytes } = options;
  return (async (method, callerSignal, timeoutMs, header, input) => {
    const signals = [callerSignal, timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined]
      .filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    try {
      const message = isMessage(input, method.input) ? input : create(method.input, input);
      const headers = requestHeader(method.methodKind, true, timeoutMs, header, false);
      if (authorization) headers.set("authorization", authorization);
      const res = await fetch(
        `${baseUrl}/${method.parent.typeName}/${method.name}`,
        {
          method: "POST",
          headers,
          body: toBinary(method.input, message),
          signal,
          client,
        } as RequestInit & { client: Deno.HttpClient },
      );
      const { isUnaryError, unaryError } = validateResponse(
        method.methodKind,
        true,
        res.status,
        res.headers,
      );
      const [resHeader, trailer] = trailerDemux(res.headers);
      const length = Number(res.headers.get("content-length") ?? 0);
      if (length > readMaxBytes) {
        await res.body?.cancel();
        throw new ConnectError(
          `message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`,
          Code.ResourceExhausted,
        );
      }
      const body = new Uint8Array(await res.arrayBuffer());
      if (body.byteLength > readMaxBytes) {
        throw new ConnectError(
          `message size ${body.byteLength} is larger than configured readMaxBytes ${readMaxBytes}`,
          Code.ResourceExhausted,
        );
      }
      if (isUnaryError) {
        throw errorFromJsonBytes(body, appendHeaders(resHeader, trailer), unaryError!);
      }
      return {
        stream: false,
        service: method.parent,
        method,
        header: resHeader,
        trailer,
        message: fromBinary(method.output, body),
      };
    } catch (err) {
      throw failure(err, signal ?? new AbortController().signal);
    }
  }) as Transport["unary"];
}
