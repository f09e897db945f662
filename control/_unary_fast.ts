/**
 * The common case of a unary RPC, served without connect-es's generic
 * handler: a POST of one binary message (`application/proto`, no
 * compression, no timeout header, a known length within the method's limit)
 * is decoded, handed to the implementation, and its answer encoded, in the
 * same bytes and with the same errors as connect-es's Connect protocol.
 *
 * Why: per warm call connect-es parses the URL, copies headers three times,
 * links abort controllers and aborts one with a fresh `DOMException` (its
 * stack captured) when the call ends. Any other request (JSON, compressed,
 * with a deadline, or a body of unknown length) still goes to connect-es.
 * @module
 */
import {
  Code,
  codeToHttpStatus,
  ConnectError,
  create,
  type DescMessage,
  errorToJsonBytes,
  fromBinary,
  isMessage,
  toBinary,
} from "../proto/deps.ts";

/** A unary method and its implementation, as the router registered them. */
export interface UnaryRoute {
  input: DescMessage;
  output: DescMessage;
  impl: (req: unknown, ctx: { signal: AbortSignal }) => unknown;
  /** Largest request body. */
  readMaxBytes: number;
  /** Turns an error into the one the client should see (backend outages, ...). */
  translate: (err: unknown) => unknown;
}

const PROTO = { "content-type": "application/proto" };
const JSON_TYPE = { "content-type": "application/json" };

/** Serves `req` on the fast path, or returns `undefined` when connect-es must. */
export function serveUnaryFast(route: UnaryRoute, req: Request): Promise<Response> | undefined {
  if (req.method !== "POST") return undefined;
  const h = req.headers;
  if (h.get("content-type") !== "application/proto") return undefined;
  if (h.has("connect-timeout-ms") || h.has("content-encoding")) return undefined;
  const declared = h.get("content-length");
  if (declared === null) return undefined;
  const length = Number(declared);
  if (!Number.isSafeInteger(length) || length < 0 || length > route.readMaxBytes) return undefined;
  return serve(route, req, length);
}

/** Why a call's signal aborts once it has its answer (one object, no stack captured per call). */
const CALL_ENDED = new ConnectError("the call has ended", Code.Canceled);

async function serve(route: UnaryRoute, req: Request, length: number): Promise<Response> {
  // As connect-es's context: aborts when the client goes, and once the call has its answer
  // (implementations drop what they tied to it then).
  const ctl = new AbortController();
  const onGone = () => ctl.abort(req.signal.reason);
  req.signal.addEventListener("abort", onGone);
  try {
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (bytes.length !== length) {
      throw new ConnectError(
        "request body does not match its content-length",
        Code.InvalidArgument,
      );
    }
    let input;
    try {
      input = fromBinary(route.input, bytes, { readUnknownFields: false });
    } catch (err) {
      // As connect-es words it, and as the client's fault (see _parse_errors.ts).
      throw new ConnectError(`parse binary: ${(err as Error).message}`, Code.InvalidArgument);
    }
    const out = await route.impl(input, { signal: ctl.signal });
    const message = isMessage(out, route.output)
      ? out
      : create(route.output, out as Parameters<typeof create>[1]);
    return new Response(toBinary(route.output, message), { status: 200, headers: PROTO });
  } catch (err) {
    const translated = route.translate(err);
    // Anything but a ConnectError is ours: its message stays on the server, as connect-es does.
    const error = translated instanceof ConnectError
      ? translated
      : new ConnectError("internal error", Code.Internal, undefined, undefined, translated);
    const headers = new Headers(JSON_TYPE);
    if (!error.isWireError) error.metadata.forEach((value, key) => headers.append(key, value));
    return new Response(errorToJsonBytes(error, {}) as Uint8Array<ArrayBuffer>, {
      status: codeToHttpStatus(error.code),
      headers,
    });
  } finally {
    req.signal.removeEventListener("abort", onGone);
    ctl.abort(CALL_ENDED);
  }
}
