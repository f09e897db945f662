/**
 * connect-es reports an undecodable binary message as `internal` (HTTP 500).
 * It is the client's fault, so we answer `invalid_argument` (HTTP 400)
 * instead. Where connect-es decodes the request before our code runs (unary
 * and server-streaming RPCs), the response is rewritten here: a unary error
 * body, or a stream's end-of-stream message without touching other messages.
 * Bidi streams decode inside our handlers, where an interceptor translates
 * the error (`_outages.ts`), so their hot path has no extra stage.
 */
const PARSE_FAILURE = /^parse (binary|json)|cannot decode/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Whether an error message is connect-es failing to decode a message. */
export function isParseFailure(message: string): boolean {
  return PARSE_FAILURE.test(message);
}

function rewrite(error: { code?: string; message?: string } | undefined): boolean {
  if (error?.code !== "internal" || !isParseFailure(error.message ?? "")) return false;
  error.code = "invalid_argument";
  return true;
}

/**
 * The headers of a response whose body we replace: without the old
 * content-length, which HTTP/2 enforces (a mismatch is a PROTOCOL_ERROR).
 */
function headersFor(res: Response): Headers {
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  return headers;
}

/** Returns `res`, or a copy whose parse failure is reported as `invalid_argument`. */
export async function clientFaultForParseErrors(res: Response): Promise<Response> {
  const type = res.headers.get("content-type") ?? "";
  if (res.status === 500 && type.startsWith("application/json")) {
    const body = await res.json().catch(() => undefined);
    const headers = headersFor(res);
    if (rewrite(body)) return Response.json(body, { status: 400, headers });
    return Response.json(body ?? { code: "internal" }, { status: 500, headers });
  }
  if (type.startsWith("application/connect+") && res.body) {
    return new Response(res.body.pipeThrough(endStreamRewriter()), {
      status: res.status,
      statusText: res.statusText,
      headers: headersFor(res),
    });
  }
  return res;
}

/** Passes envelopes through; rewrites the end-of-stream envelope (flag 0x02) if needed. */
function endStreamRewriter(): TransformStream<Uint8Array, Uint8Array> {
  let buf = new Uint8Array(0);
  let passthrough = 0; // bytes of the current data envelope still to forward untouched
  return new TransformStream({
    transform(chunk, ctl) {
      let data = buf.length ? concat(buf, chunk) : chunk;
      buf = new Uint8Array(0);
      while (data.length > 0) {
        if (passthrough > 0) {
          const n = Math.min(passthrough, data.length);
          ctl.enqueue(data.subarray(0, n));
          passthrough -= n;
          data = data.subarray(n);
          continue;
        }
        if (data.length < 5) break;
        const flags = data[0];
        const len = new DataView(data.buffer, data.byteOffset + 1, 4).getUint32(0);
        if (!(flags & 0x02)) {
          passthrough = 5 + len;
          continue;
        }
        if (data.length < 5 + len) break;
        ctl.enqueue(endStream(data.subarray(0, 5 + len)));
        data = data.subarray(5 + len);
      }
      if (data.length) buf = data.slice();
    },
    flush(ctl) {
      if (buf.length) ctl.enqueue(buf);
    },
  });
}

function endStream(envelope: Uint8Array): Uint8Array {
  try {
    const end = JSON.parse(decoder.decode(envelope.subarray(5)));
    if (!rewrite(end.error)) return envelope;
    const json = encoder.encode(JSON.stringify(end));
    const out = new Uint8Array(5 + json.length);
    out[0] = envelope[0];
    new DataView(out.buffer).setUint32(1, json.length);
    out.set(json, 5);
    return out;
  } catch {
    return envelope;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
