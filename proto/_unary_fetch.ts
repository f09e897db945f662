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
  type DescMessage,
  type DescMethodUnary,
  errorFromJsonBytes,
  fromBinary,
  isMessage,
  type MessageInitShape,
  requestHeader,
  toBinary,
  trailerDemux,
  type Transport,
  type UnaryResponse,
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

/** The error a unary call ends with: the caller's own abort or deadline first. */
export function unaryFailure(err: unknown, signal: AbortSignal | undefined): ConnectError {
  if (signal?.aborted) {
    const reason = signal.reason;
    if (reason instanceof DOMException && reason.name === "TimeoutError") {
      return new ConnectError("the operation timed out", Code.DeadlineExceeded);
    }
    return ConnectError.from(reason, Code.Canceled);
  }
  return ConnectError.from(err);
}

/** The caller's signal and the call's deadline as one signal, or none. */
export function unarySignal(
  callerSignal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): AbortSignal | undefined {
  const timeout = timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined;
  if (!callerSignal) return timeout;
  return timeout ? AbortSignal.any([callerSignal, timeout]) : callerSignal;
}

/** Refuses a response body larger than the client accepts. */
export function checkReadMax(bytes: number, readMaxBytes: number): void {
  if (bytes > readMaxBytes) {
    throw new ConnectError(
      `message size ${bytes} is larger than configured readMaxBytes ${readMaxBytes}`,
      Code.ResourceExhausted,
    );
  }
}

/**
 * A unary response as connect-es's Connect protocol reads it: the status and
 * content type checked, an error's JSON body thrown as its `ConnectError`,
 * otherwise the message decoded.
 */
export function unaryAnswer<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  status: number,
  headers: Headers,
  body: Uint8Array,
): UnaryResponse<I, O> {
  const { isUnaryError, unaryError } = validateResponse(
    method.methodKind,
    true,
    status,
    headers,
  );
  const [resHeader, trailer] = trailerDemux(headers);
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
}

/** The request's bytes and headers, as connect-es would send them. */
export function unaryRequest<I extends DescMessage>(
  method: DescMethodUnary<I, DescMessage>,
  timeoutMs: number | undefined,
  header: HeadersInit | undefined,
  input: unknown,
  authorization: string | undefined,
): { headers: Headers; body: Uint8Array<ArrayBuffer> } {
  const message = isMessage(input, method.input)
    ? input
    : create(method.input, input as MessageInitShape<I>);
  const headers = requestHeader(method.methodKind, true, timeoutMs, header, false);
  if (authorization) headers.set("authorization", authorization);
  return { headers, body: toBinary(method.input, message) as Uint8Array<ArrayBuffer> };
}

/** A transport's `unary` that calls over `fetch`. */
export function unaryOverFetch(options: UnaryFetchOptions): Transport["unary"] {
  const { baseUrl, client, authorization, readMaxBytes } = options;
  return (async (method, callerSignal, timeoutMs, header, input) => {
    const signal = unarySignal(callerSignal, timeoutMs);
    try {
      const { headers, body } = unaryRequest(method, timeoutMs, header, input, authorization);
      const res = await fetch(
        `${baseUrl}/${method.parent.typeName}/${method.name}`,
        { method: "POST", headers, body, signal, client } as RequestInit & {
          client: Deno.HttpClient;
        },
      );
      const length = Number(res.headers.get("content-length") ?? 0);
      if (length > readMaxBytes) await res.body?.cancel();
      checkReadMax(length, readMaxBytes);
      const bytes = new Uint8Array(await res.arrayBuffer());
      checkReadMax(bytes.byteLength, readMaxBytes);
      return unaryAnswer(method, res.status, res.headers, bytes);
    } catch (err) {
      throw unaryFailure(err, signal);
    }
  }) as Transport["unary"];
}
