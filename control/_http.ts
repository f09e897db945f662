/**
 * From an HTTP request to an RPC handler, cheapest checks first: the token
 * (headers only), then the route, then the body, which connect-es reads with
 * a size limit per RPC. Only the RPCs that carry user data (bundles,
 * arguments, results) accept large bodies; the rest stop at 1 MiB.
 */
import { createConnectRouter, createFetchHandler, type Interceptor } from "../proto/deps.ts";
import type {
  ControlService,
  SecretService,
  VolumeService,
  WorkerService,
} from "../proto/messages.ts";
import { type AuthOptions, createAuthCheck, refusalResponse } from "./_auth.ts";
import { clientFaultForParseErrors } from "./_parse_errors.ts";
import { serveUnaryFast, type UnaryRoute } from "./_unary_fast.ts";

/** Largest body of an RPC that carries no user data. */
export const SMALL_REQUEST_BYTES = 1024 * 1024;

/** RPCs whose requests carry bundles, arguments or results. */
const LARGE_REQUESTS = new Set([
  "PutBundle",
  "Call",
  "Spawn",
  "Map",
  "Work",
  // Volume content, and commits of many files.
  "PutChunks",
  "CommitVolume",
]);

/** Options for {@linkcode createRpcRouter}. */
export interface RpcRouterOptions {
  /** Largest message of the RPCs that carry user data. */
  maxMessageBytes: number;
  interceptors: Interceptor[];
  /** What `interceptors` do to a unary call's error, for the fast path (`_unary_fast.ts`). */
  translate: (err: unknown) => unknown;
}

/** The services of one server, each method with its own body limit. */
export class RpcRouter {
  readonly #router: ReturnType<typeof createConnectRouter>;
  readonly #options: RpcRouterOptions;
  readonly #unary = new Map<string, UnaryRoute>();

  constructor(options: RpcRouterOptions) {
    this.#options = options;
    this.#router = createConnectRouter(this.#handlerOptions(options.maxMessageBytes));
  }

  #handlerOptions(readMaxBytes: number) {
    return {
      // Our clients speak the Connect protocol only; fewer parsers, less surface.
      grpc: false,
      grpcWeb: false,
      // A misspelt field in hand-written JSON is an error, not silently dropped.
      jsonOptions: { ignoreUnknownFields: false },
      // Unknown binary fields are skipped, not kept: a body of tiny unknown fields
      // would otherwise become millions of objects.
      binaryOptions: { readUnknownFields: false },
      readMaxBytes,
      interceptors: this.#options.interceptors,
    };
  }

  /** Registers every method of `service`, implemented by `impl`. */
  service(
    service:
      | typeof ControlService
      | typeof WorkerService
      | typeof SecretService
      | typeof VolumeService,
    impl: object,
  ): this {
    const large = this.#options.maxMessageBytes;
    for (const method of Object.values(service.method)) {
      const limit = LARGE_REQUESTS.has(method.name) ? large : Math.min(SMALL_REQUEST_BYTES, large);
      const fn = (impl as Record<string, (...a: unknown[]) => unknown>)[method.localName];
      // deno-lint-ignore no-explicit-any
      this.#router.rpc(method as any, fn.bind(impl) as any, this.#handlerOptions(limit));
      if (method.methodKind === "unary") {
        this.#unary.set(`/${service.typeName}/${method.name}`, {
          input: method.input,
          output: method.output,
          impl: fn.bind(impl),
          readMaxBytes: limit,
          translate: this.#options.translate,
        });
      }
    }
    return this;
  }

  /** The fetch handler: token, route, then body. */
  handler(auth: AuthOptions): (req: Request) => Response | Promise<Response> {
    const check = createAuthCheck(auth);
    const routes = new Map(this.#router.handlers.map((h) => {
      const handle = createFetchHandler(h);
      // Bidi requests decode inside our handlers; the others before them (see _parse_errors.ts).
      const decodedEarly = h.method.methodKind !== "bidi_streaming";
      const slow = decodedEarly
        ? (req: Request) => handle(req).then(clientFaultForParseErrors)
        : handle;
      const unary = this.#unary.get(h.requestPath);
      return [
        h.requestPath,
        unary ? (req: Request) => serveUnaryFast(unary, req) ?? slow(req) : slow,
      ];
    }));
    return (req) => {
      const path = pathOf(req.url);
      const refused = check(path, req.headers.get("authorization"));
      if (refused) return refusalResponse(refused, req.headers.get("content-type"));
      const handler = routes.get(path);
      return handler ? handler(req) : notFound(path);
    };
  }
}

/** The path of a request URL, without building a URL object. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const end = url.indexOf("?", start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

function notFound(path: string): Response {
  return Response.json(
    { code: "not_found", message: `No RPC at ${path.slice(0, 200)}` },
    { status: 404 },
  );
}
