/**
 * A function that runs remotely: `remote`, `map`, `starmap`, `spawn`,
 * `forEach`, or `local` in this process.
 * @module
 */
import { ResultStatus } from "../proto/result_status.ts";
import { InvalidError } from "./errors.ts";
import { FunctionCall } from "./function_call.ts";
import { outputError, outputValue } from "./_output.ts";
import { type CallSession, currentSession } from "./_connect.ts";
import { type ResolvedOptions, resolveOptions } from "./_options.ts";
import { atCallSite, type CallSite, callSite } from "./_user_stack.ts";
import {
  checkIterable,
  checkMapOptions,
  encodeArgs,
  encodeItems,
  inputOrder,
} from "./_map_inputs.ts";

/**
 * Options for {@linkcode RemoteFunction.map} and {@linkcode RemoteFunction.starmap}.
 *
 * @example
 * ```ts
 * import { App, type MapOptions } from "@nano/modal";
 * const app = new App("demo");
 * const inverse = app.function(function inverse(x: number) {
 *   if (x === 0) throw new RangeError("zero");
 *   return 1 / x;
 * });
 * const options: MapOptions = { order: false, returnExceptions: true };
 * app.localEntrypoint(async () => {
 *   for await (const y of inverse.map([0, 1, 2], options)) console.log(y); // errors come as values
 * });
 * ```
 */
export interface MapOptions {
  /** Yield results in input order (otherwise as they finish). @default true */
  order?: boolean;
  /** Yield a thrown error as a value instead of stopping the map. @default false */
  returnExceptions?: boolean;
}

/**
 * A sync or async iterable of inputs.
 *
 * @example
 * ```ts
 * import type { AnyIterable } from "@nano/modal";
 * async function* numbers() {
 *   yield 1;
 *   yield 2;
 * }
 * const inputs: AnyIterable<number>[] = [[1, 2], new Set([3]), numbers()];
 * console.log(inputs.length);
 * ```
 */
export type AnyIterable<T> = Iterable<T> | AsyncIterable<T>;

/**
 * The argument list of `F`: a function type, or the type of a remote function
 * (`typeof square` where `square = app.function(...)`), as
 * {@linkcode RemoteFunction.fromName} takes it.
 *
 * @example
 * ```ts
 * import type { ArgsOf } from "@nano/modal";
 * const args: ArgsOf<(x: number, y: string) => boolean> = [1, "a"];
 * console.log(args.length); // 2
 * ```
 */
export type ArgsOf<F> = F extends RemoteFunction<infer A, infer _R> ? A
  : F extends (...args: infer A) => unknown ? A
  : unknown[];

/**
 * The result of `F` (see {@linkcode ArgsOf}).
 *
 * @example
 * ```ts
 * import type { ResultOf } from "@nano/modal";
 * const result: ResultOf<(x: number) => Promise<string>> = Promise.resolve("ok");
 * console.log(await result); // "ok"
 * ```
 */
export type ResultOf<F> = F extends RemoteFunction<infer _A, infer R> ? R
  : F extends (...args: never[]) => infer R ? R
  : unknown;

/**
 * A remote function, made by `app.function(...)`. Its methods keep the
 * parameter and return types of the function it wraps.
 *
 * @example
 * ```ts
 * import { App } from "@nano/modal";
 * const app = new App("example");
 * const square = app.function(function square(x: number) {
 *   return x * x;
 * });
 * console.log(await square.local(3)); // 9
 * ```
 */
export class RemoteFunction<Args extends unknown[], R> {
  /** The function's name within its app. */
  readonly name: string;
  /** The resolved options. */
  readonly options: ResolvedOptions;
  readonly #fn?: (...args: Args) => R;
  /** Set for a function looked up by name: the deployed app it belongs to. */
  readonly #appName?: string;

  /** Made by `app.function` or {@linkcode RemoteFunction.fromName}; not constructed directly. */
  constructor(
    name: string,
    fn: ((...args: Args) => R) | undefined,
    options: ResolvedOptions,
    appName?: string,
  ) {
    this.name = name;
    this.#fn = fn;
    this.options = options;
    this.#appName = appName;
  }

  /**
   * A function of a deployed app, found by name when first called. Works from
   * any script with `NANO_MODAL_SERVER` set (plain `deno run`), from a running
   * app, and from inside other functions. Each call goes to the app's current
   * version.
   *
   * @typeParam F the function's type: `typeof square` (the remote function, imported with
   *   `import type`) or a function type such as `(x: number) => number`
   * @param appName the name the app was deployed under
   * @param functionName the function's name within the app
   * @example
   * ```ts
   * import { RemoteFunction } from "./remote_function.ts";
   * const square = RemoteFunction.fromName<(x: number) => number>("demo", "square");
   * console.log(square.name); // "square"
   * ```
   */
  static fromName<F>(
    appName: string,
    functionName: string,
  ): RemoteFunction<ArgsOf<F>, ResultOf<F>> {
    for (const [what, value] of [["app name", appName], ["function name", functionName]]) {
      if (typeof value !== "string" || !/^[A-Za-z0-9_$][A-Za-z0-9._$-]{0,63}$/.test(value)) {
        throw new InvalidError(
          `RemoteFunction.fromName needs a valid ${what}, got ${JSON.stringify(value)}`,
        );
      }
    }
    return new RemoteFunction<ArgsOf<F>, ResultOf<F>>(
      functionName,
      undefined,
      resolveOptions(functionName, {}),
      appName,
    );
  }

  /** Runs the function here, in this process. */
  async local(...args: Args): Promise<Awaited<R>> {
    if (!this.#fn) {
      throw new InvalidError(
        `${this.#label} was looked up by name: its code is not in this process, call .remote() instead`,
      );
    }
    return await this.#fn(...args);
  }

  get #label(): string {
    return this.#appName ? `${this.#appName}.${this.name}` : this.name;
  }

  #functionId(session: CallSession): Promise<string> | string {
    return this.#appName ? session.lookup(this.#appName, this.name) : session.functionId(this.name);
  }

  /** Runs the function remotely and resolves to its result. */
  async remote(...args: Args): Promise<Awaited<R>> {
    const site = callSite(this.remote);
    try {
      const payload = encodeArgs(`${this.#label}.remote()`, args);
      const session = await currentSession(`${this.#label}.remote()`);
      const output = await session.call(await this.#functionId(session), payload);
      return outputValue(output, this.#label) as Awaited<R>;
    } catch (err) {
      throw atCallSite(err, site);
    }
  }

  /** Starts the function remotely without waiting; see {@linkcode FunctionCall}. */
  async spawn(...args: Args): Promise<FunctionCall<Awaited<R>>> {
    const site = callSite(this.spawn);
    try {
      const payload = encodeArgs(`${this.#label}.spawn()`, args);
      const session = await currentSession(`${this.#label}.spawn()`);
      const id = await session.spawn(await this.#functionId(session), payload);
      return new FunctionCall<Awaited<R>>(id, this.#label);
    } catch (err) {
      throw atCallSite(err, site);
    }
  }

  /**
   * Runs the function on each item (as its first argument) and yields the
   * results, in input order unless `order: false`.
   */
  map(
    inputs: AnyIterable<Args[0]>,
    options: MapOptions & { returnExceptions: true },
  ): AsyncGenerator<Awaited<R> | Error>;
  /** Runs the function on each item and yields the results. */
  map(inputs: AnyIterable<Args[0]>, options?: MapOptions): AsyncGenerator<Awaited<R>>;
  map(inputs: AnyIterable<Args[0]>, options: MapOptions = {}): AsyncGenerator<Awaited<R> | Error> {
    checkIterable(`${this.#label}.map()`, inputs);
    const site = callSite(this.map);
    return this.#run(`${this.#label}.map`, inputs, (x) => [x] as unknown as Args, options, site);
  }

  /** Like {@linkcode RemoteFunction.map}, but each item is the full argument list. */
  starmap(
    inputs: AnyIterable<Args>,
    options: MapOptions & { returnExceptions: true },
  ): AsyncGenerator<Awaited<R> | Error>;
  /** Runs the function on each argument list and yields the results. */
  starmap(inputs: AnyIterable<Args>, options?: MapOptions): AsyncGenerator<Awaited<R>>;
  starmap(inputs: AnyIterable<Args>, options: MapOptions = {}): AsyncGenerator<Awaited<R> | Error> {
    checkIterable(`${this.#label}.starmap()`, inputs);
    const site = callSite(this.starmap);
    return this.#run(
      `${this.#label}.starmap`,
      inputs,
      (x) => {
        if (!Array.isArray(x)) {
          throw new InvalidError(
            `${this.name}.starmap() needs each item to be an array of arguments, got ${typeof x}`,
          );
        }
        return x;
      },
      options,
      site,
    );
  }

  /** Runs the function on each item and waits for all, discarding results. */
  async forEach(
    inputs: AnyIterable<Args[0]>,
    options: Omit<MapOptions, "order"> = {},
  ): Promise<void> {
    for await (const _ of this.map(inputs, { ...options, order: false })) {
      // Results are discarded; errors still surface unless returnExceptions.
    }
  }

  async *#run<T>(
    label: string,
    inputs: AnyIterable<T>,
    toArgs: (item: T) => Args,
    options: MapOptions,
    site: CallSite,
  ): AsyncGenerator<Awaited<R> | Error> {
    try {
      checkMapOptions(label, options);
      const what = `${label}()`; // named in errors; built once, not per input
      const session = await currentSession(what);
      const functionId = await this.#functionId(session);
      const encoded = encodeItems(inputs, (item) => encodeArgs(what, toArgs(item as T)));
      const due = inputOrder(options.order ?? true);
      // One generator between the stream and the caller: each layer costs every output promises.
      for await (const out of session.map({ functionId, inputs: encoded, label })) {
        for (const ready of due(out)) {
          if (ready.status === ResultStatus.SUCCESS) {
            yield outputValue(ready, this.#label) as Awaited<R>;
            continue;
          }
          const err = outputError(ready, this.#label);
          if (!options.returnExceptions) throw err;
          yield err;
        }
      }
    } catch (err) {
      throw atCallSite(err, site);
    }
  }
}
