/**
 * Test support shared by the unary transports' tests (`fetch`, HTTP/1.1 on a
 * Unix socket): one server behaviour and one set of checks, so both
 * transports are held to the same Connect bytes and errors.
 * @module
 */
import { ok, rejects, strictEqual } from "node:assert/strict";
import { type Client, Code, ConnectError } from "./deps.ts";
import type { WorkerService } from "./messages.ts";

/** The headers each request came with. */
export type Seen = { type: string | null; auth: string | null; version: string | null }[];

/**
 * A server for {@linkcode checkUnaryCases}: `GetBundle` answers `bundle()`, `GetFunction` a
 * Connect error, `GetSecretEnv` a 502, `NestedCall` too late for its caller.
 */
export function unaryCasesHandler(seen: Seen, bundle: () => Response) {
  return async (req: Request): Promise<Response> => {
    seen.push({
      type: req.headers.get("content-type"),
      auth: req.headers.get("authorization"),
      version: req.headers.get("connect-protocol-version"),
    });
    const path = new URL(req.url).pathname;
    await req.arrayBuffer();
    if (path.endsWith("/GetBundle")) return bundle();
    if (path.endsWith("/GetFunction")) {
      return Response.json({ code: "not_found", message: "no such function" }, { status: 404 });
    }
    if (path.endsWith("/GetSecretEnv")) return new Response("bad gateway", { status: 502 });
    await new Promise((r) => setTimeout(r, 300)); // NestedCall: too slow for its caller
    return new Response(null, { status: 500 });
  };
}

/**
 * After one `GetBundle`: the request's headers, and the errors a caller gets (a Connect error
 * body, a 502, an abort, a deadline).
 */
export async function checkUnaryCases(
  client: Client<typeof WorkerService>,
  seen: Seen,
): Promise<void> {
  strictEqual(seen[0].type, "application/proto");
  strictEqual(seen[0].auth, "Bearer t0ken-t0ken-t0ken");
  strictEqual(seen[0].version, "1");
  await rejects(client.getFunction({ functionId: "fu-x" }), (e) => {
    ok(e instanceof ConnectError);
    strictEqual(e.code, Code.NotFound);
    strictEqual(e.rawMessage, "no such function");
    return true;
  });
  await rejects(client.getSecretEnv({}), (e) => (e as ConnectError).code === Code.Unavailable);
  const abort = new AbortController();
  const call = client.nestedCall({}, { signal: abort.signal });
  setTimeout(() => abort.abort(), 50);
  await rejects(call, (e) => (e as ConnectError).code === Code.Canceled);
  await rejects(
    client.nestedCall({}, { timeoutMs: 50 }),
    (e) => (e as ConnectError).code === Code.DeadlineExceeded,
  );
}
