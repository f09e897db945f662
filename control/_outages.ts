/**
 * Errors that reach clients with the code that tells them what to do: a
 * backend outage (Redis unreachable) as `unavailable`, which they retry with
 * backoff; a request stream message that does not decode (connect-es says
 * `internal`) as `invalid_argument`, the client's fault.
 */
import { Code, ConnectError, type Interceptor } from "../proto/deps.ts";
import { isParseFailure } from "./_parse_errors.ts";

const OUTAGE = new Set(["RedisUnavailableError"]);

/** The error a client should see for `err` (what {@linkcode backendOutages} does to it). */
export function translate(err: unknown): unknown {
  if (err instanceof Error && OUTAGE.has(err.name)) {
    return new ConnectError(
      `The control plane's backend is unavailable: ${err.message}`,
      Code.Unavailable,
    );
  }
  if (err instanceof ConnectError && err.code === Code.Internal && isParseFailure(err.rawMessage)) {
    return new ConnectError(err.rawMessage, Code.InvalidArgument);
  }
  return err;
}

/** Turns backend outages into `unavailable` errors, for unary and streaming RPCs. */
export function backendOutages(): Interceptor {
  return (next) => async (req) => {
    try {
      const res = await next(req);
      if (!res.stream) return res;
      const message = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* message;
          } catch (err) {
            throw translate(err);
          }
        })(),
      };
    } catch (err) {
      throw translate(err);
    }
  };
}
