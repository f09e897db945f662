/**
 * nano-modal: run TypeScript functions in containers on your own workers.
 *
 * Declare an {@linkcode App}, make functions remote with `app.function`, and
 * call them with `.remote()`, `.map()` or `.spawn()` from the app's local
 * entrypoint. Run the file with `nano-modal run app.ts` (or `deno run -A
 * app.ts`, which hands it to the CLI: set `NANO_MODAL_CLI` or put
 * `nano-modal` on `PATH`).
 *
 * Everything a user needs is exported here; every other file in `sdk/` is
 * internal.
 *
 * Errors: every error the SDK raises is a {@linkcode NanoModalError}. Bad
 * arguments and definitions raise {@linkcode InvalidError} (never a bare
 * `TypeError`/`RangeError`), so one `instanceof` check catches all the SDK
 * means; an exception from your own remote code arrives as a
 * {@linkcode RemoteError} with its stack in your files.
 *
 * Versions: {@linkcode VERSION} is this package's version; the SDK prints one
 * warning line when the server's major or minor version differs from it.
 *
 * @example
 * ```ts
 * import { App } from "@nano/modal";
 *
 * const app = new App("demo");
 * const square = app.function(function square(x: number) {
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
export { App } from "./app.ts";
export type { AnyFunction, EntrypointArgs, LocalEntrypoint } from "./app_types.ts";
export {
  type AnyIterable,
  type ArgsOf,
  type MapOptions,
  RemoteFunction,
  type ResultOf,
} from "./remote_function.ts";
export { FunctionCall, type GetOptions } from "./function_call.ts";
export { Image, type ImageLayer } from "./image.ts";
export { Secret } from "./secret.ts";
export { Volume, type VolumeDirEntry, type VolumeFromNameOptions } from "./volume.ts";
export { WebEndpoint, type WebEndpointOptions, type WebHandler } from "./web_endpoint.ts";
export {
  type AnyClass,
  type ClassOf,
  type ClassOptions,
  type Method,
  RemoteClass,
  type RemoteInstance,
  type RemoteMethod,
} from "./cls.ts";
export { enter, exit, type MethodDecorator } from "./decorators.ts";
export type { ResolvedKind, Schedule } from "./_kinds.ts";
export type { FunctionOptions, ResolvedOptions, RetryOptions } from "./_options.ts";
export {
  CancelledError,
  ConnectionError,
  FunctionTimeoutError,
  ImageBuildError,
  InternalFailure,
  InvalidError,
  NanoModalError,
  NotFoundError,
  OutOfMemoryError,
  RemoteError,
  type RemoteErrorInit,
  ResultTooLargeError,
} from "./errors.ts";
export { VERSION } from "./version.ts";
