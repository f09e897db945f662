/**
 * A backend outage (Redis unreachable) reaches clients as `unavailable`, which
 * they retry with backoff, instead of an opaque internal error.
 */
import { Code, ConnectError, type Interceptor } from "../proto/deps.ts";

const OUTAGE = new Set(["RedisUnavailableError"]);

function translate(err: unknown): unknown {
  if (err instanceof Error && OUTAGE.has(err.name)) {
    return new ConnectError(
      `The control plane's backend is unavailable: ${err.message}`,
      Code.Unavailable,
    );
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
