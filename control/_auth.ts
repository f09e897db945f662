/**
 * Who may call what, decided from the request line and headers alone, before
 * a route is looked up or a byte of the body is read: an unauthenticated
 * client costs the server one header compare, whatever it sends after.
 *
 * Roles: the cluster token opens everything, unless a worker token is set;
 * then the worker token alone opens `WorkerService` (work streams, bundles,
 * function definitions) and the cluster token alone opens `ControlService`.
 * Tokens are compared in constant time so the comparison leaks nothing.
 * A token of the wrong role is `unauthenticated` too: clients and workers
 * already stop on that code and show the message, which names the token to set.
 */
import { VolumeService, WorkerService } from "../proto/messages.ts";

const encoder = new TextEncoder();

/** Compares two strings in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** The tokens a server accepts. */
export interface AuthOptions {
  /** The cluster token; none lets every request in (loopback-only servers in tests). */
  token?: string;
  /** When set, the only token that opens `WorkerService`; the cluster token no longer does. */
  workerToken?: string;
}

/** Why a request was refused: an HTTP-level Connect error. */
export interface Refusal {
  code: "unauthenticated";
  message: string;
}

const WORKER_PREFIX = `/${WorkerService.typeName}/`;
/** Volumes serve clients and workers alike: either token opens them. */
const SHARED_PREFIX = `/${VolumeService.typeName}/`;

/**
 * Returns a check of one request's `Authorization` header against the path it
 * asks for: `undefined` to let it in, or why not.
 */
export function createAuthCheck(
  options: AuthOptions,
): (path: string, authorization: string | null) => Refusal | undefined {
  const cluster = options.token ? `Bearer ${options.token}` : undefined;
  const worker = options.workerToken ? `Bearer ${options.workerToken}` : undefined;
  if (!cluster && !worker) return () => undefined;
  return (path, authorization) => {
    const got = authorization ?? "";
    const workerRoute = path.startsWith(WORKER_PREFIX);
    // Compare against both tokens every time: which one matched must not show in the timing.
    const isCluster = cluster !== undefined && timingSafeEqual(got, cluster);
    const isWorker = worker !== undefined && timingSafeEqual(got, worker);
    if (workerRoute ? (worker ? isWorker : isCluster) : isCluster) return undefined;
    if (path.startsWith(SHARED_PREFIX) && (isCluster || isWorker)) return undefined;
    if (!got) {
      return {
        code: "unauthenticated",
        message: workerRoute && worker
          ? "This server requires the worker token and none was sent"
          : "This server requires a token and none was sent (the server's user finds it in ~/.config/nano-modal/token)",
      };
    }
    if (workerRoute && isCluster) {
      return {
        code: "unauthenticated",
        message:
          "The cluster token cannot act as a worker on this server, which has a worker token",
      };
    }
    if (!workerRoute && isWorker) {
      return {
        code: "unauthenticated",
        message: "The worker token only opens worker RPCs, not a client's",
      };
    }
    return {
      code: "unauthenticated",
      message: workerRoute && worker
        ? "The worker token sent is not this server's"
        : "The token sent is not this server's",
    };
  };
}

/**
 * The refusal as a Connect error response: a JSON error with its HTTP status
 * for unary requests, an end-of-stream message for streaming ones (the only
 * place Connect stream clients read an error's message).
 */
export function refusalResponse(refusal: Refusal, contentType: string | null): Response {
  const type = contentType ?? "";
  if (type.startsWith("application/connect+")) {
    const json = encoder.encode(JSON.stringify({ error: refusal }));
    const envelope = new Uint8Array(5 + json.length);
    envelope[0] = 0x02;
    new DataView(envelope.buffer).setUint32(1, json.length);
    envelope.set(json, 5);
    const streamType = type.startsWith("application/connect+json")
      ? "application/connect+json"
      : "application/connect+proto";
    return new Response(envelope, { headers: { "content-type": streamType } });
  }
  return Response.json(refusal, { status: 401 });
}
