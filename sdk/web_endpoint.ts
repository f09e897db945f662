/**
 * Web endpoints: a web-standard handler served by the control plane at
 * `/web/<app>/<name>/...`.
 * @module
 */
import { InvalidError } from "./errors.ts";
import { type FunctionOptions, type ResolvedOptions, resolveOptions } from "./_options.ts";

/**
 * A web-standard request handler, like `Deno.serve`'s (a Hono app's `fetch` is one).
 *
 * @example
 * ```ts
 * import type { WebHandler } from "@nano/modal";
 * const hello: WebHandler = (req) => new Response(`hi from ${new URL(req.url).pathname}`);
 * console.log(typeof hello);
 * ```
 */
export type WebHandler = (req: Request) => Response | Promise<Response>;

/**
 * Options of {@linkcode App.webEndpoint}: the function options, the
 * endpoint's `name` (its URL segment; by default the handler's name) and
 * whether it demands the server token.
 *
 * @example
 * ```ts
 * import type { WebEndpointOptions } from "@nano/modal";
 * const options: WebEndpointOptions = { name: "hook", requireToken: true, timeoutMs: 10_000 };
 * console.log(options.name);
 * ```
 */
export interface WebEndpointOptions extends Omit<FunctionOptions, "schedule"> {
  /** The URL segment: `/web/<app>/<name>/`. @default the handler's name */
  name?: string;
  /** Require `Authorization: Bearer <server token>`. @default false */
  requireToken?: boolean;
}

/** Inputs one container serves at once when the endpoint does not say. */
export const WEB_DEFAULT_CONCURRENCY = 32;

/**
 * A web endpoint of an app, made by {@linkcode App.webEndpoint}.
 *
 * @example
 * ```ts
 * import { App } from "@nano/modal";
 * const app = new App("demo");
 * const hello = app.webEndpoint(function hello(req: Request) {
 *   return new Response(`hello ${new URL(req.url).searchParams.get("name")}`);
 * });
 * console.log(hello.path); // "/web/demo/hello"
 * ```
 */
export class WebEndpoint {
  /** The endpoint's name within its app. */
  readonly name: string;
  /** Where the control plane serves it: `/web/<app>/<name>`. */
  readonly path: string;
  /** The resolved options. */
  readonly options: ResolvedOptions;
  readonly #handler: WebHandler;

  /** Made by `app.webEndpoint`; not constructed directly. */
  constructor(appName: string, name: string, handler: WebHandler, options: ResolvedOptions) {
    this.name = name;
    this.path = `/web/${appName}/${name}`;
    this.options = options;
    this.#handler = handler;
  }

  /** Calls the handler here, in this process. */
  async local(req: Request): Promise<Response> {
    return await this.#handler(req);
  }

  /** The endpoint's URL on a control plane, e.g. `http://127.0.0.1:50051/web/demo/hello`. */
  url(serverUrl: string): string {
    return `${serverUrl.replace(/\/+$/, "")}${this.path}`;
  }
}

/** Checks `app.webEndpoint`'s arguments; returns the name and resolved options. */
export function resolveWebEndpoint(
  options: WebEndpointOptions,
  handler: unknown,
): { name: string; options: ResolvedOptions } {
  if (typeof options !== "object" || options === null) {
    throw new InvalidError("app.webEndpoint() options must be an object");
  }
  if (typeof handler !== "function") {
    throw new InvalidError(
      `app.webEndpoint() needs a handler, got ${typeof handler}: app.webEndpoint(function name(req) { return new Response("ok"); })`,
    );
  }
  const { name: given, requireToken, ...rest } = options;
  const name = given ?? handler.name;
  if (typeof name !== "string" || !/^[A-Za-z_$][\w$-]{0,63}$/.test(name)) {
    throw new InvalidError(
      `app.webEndpoint() needs a name for its URL: give a named function or { name: "hook" }`,
    );
  }
  if (requireToken !== undefined && typeof requireToken !== "boolean") {
    throw new InvalidError(`requireToken in the options of ${name} must be true or false`);
  }
  if ("schedule" in rest) {
    throw new InvalidError(`${name} is a web endpoint: schedules apply to app.function() only`);
  }
  const resolved = resolveOptions(name, {
    ...rest,
    concurrency: rest.concurrency ?? WEB_DEFAULT_CONCURRENCY,
  });
  resolved.kind = { web: { requireToken: requireToken ?? false } };
  return { name, options: resolved };
}
