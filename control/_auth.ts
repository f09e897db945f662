/** Bearer-token checks, in constant time so the comparison leaks nothing. */
import { Code, ConnectError, type Interceptor } from "../proto/mod.ts";

const encoder = new TextEncoder();

/** Compares two strings in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** An interceptor that rejects requests without `Authorization: Bearer <token>`. */
export function bearerAuth(token: string): Interceptor {
  const expected = `Bearer ${token}`;
  return (next) => (req) => {
    const got = req.header.get("authorization") ?? "";
    if (!timingSafeEqual(got, expected)) {
      throw new ConnectError(
        got
          ? "Invalid token: set NANO_MODAL_TOKEN to the server's token"
          : "This server requires a token: set NANO_MODAL_TOKEN",
        Code.Unauthenticated,
      );
    }
    return next(req);
  };
}
