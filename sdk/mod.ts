/**
 * nano-modal: run TypeScript functions in containers on your own workers.
 *
 * Everything a user needs is exported here; every other file in `sdk/` is
 * internal.
 *
 * @example
 * ```ts
 * import { App } from "./mod.ts";
 *
 * const app = new App("demo");
 * export const square = app.function(function square(x: number) {
 *   return x * x;
 * });
 *
 * app.localEntrypoint(async () => {
 *   console.log(await square.remote(5)); // 25
 *   for await (const y of square.map([1, 2, 3])) console.log(y); // 1 4 9
 * });
 * ```
 * @module
 */
export { type AnyFunction, App, type LocalEntrypoint } from "./app.ts";
export { type AnyIterable, type MapOptions, RemoteFunction } from "./remote_function.ts";
export { FunctionCall, type GetOptions } from "./function_call.ts";
export { Image, type ImageLayer } from "./image.ts";
export type { FunctionOptions, ResolvedOptions, RetryOptions } from "./_options.ts";
export {
  CancelledError,
  ConnectionError,
  FunctionTimeoutError,
  InternalFailure,
  InvalidError,
  NanoModalError,
  NotFoundError,
  OutOfMemoryError,
  RemoteError,
} from "./errors.ts";
