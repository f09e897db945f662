/**
 * A function that runs remotely: `remote`, `map`, `starmap`, `spawn`,
 * `forEach`, or `local` in this process.
 * @module
 */
import { encodeValue, UnsendableValueError } from "../proto/payload.ts";
import type { Output } from "../proto/messages.ts";
import { ResultStatus } from "../proto/messages.ts";
import { InvalidError } from "./errors.ts";
import { FunctionCall } from "./function_call.ts";
import { outputError, outputValue } from "./_output.ts";
import { currentSession } from "./_connect.ts";
import type { ResolvedOptions } from "./_options.ts";

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

function encodeArgs(name: string, args: unknown[]): Uint8Array {
  try {
    return encodeValue(args, "args");
  } catch (err) {
    if (err instanceof UnsendableValueError) {
      throw new InvalidError(`${name}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

async function* toAsync<T>(items: AnyIterable<T>): AsyncGenerator<T> {
  yield* items as AsyncIterable<T>;
}

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
  readonly #fn: (...args: Args) => R;

  /** Made by `app.function`; not constructed directly. */
  constructor(name: string, fn: (...args: Args) => R, options: ResolvedOptions) {
    this.name = name;
    this.#fn = fn;
    this.options = options;
  }

  /** Runs the function here, in this process. */
  async local(...args: Args): Promise<Awaited<R>> {
    return await this.#fn(...args);
  }

  /** Runs the function remotely and resolves to its result. */
  async remote(...args: Args): Promise<Awaited<R>> {
    const payload = encodeArgs(`${this.name}.remote()`, args);
    const session = await currentSession(`${this.name}.remote()`);
    const output = await session.call(session.functionId(this.name), payload);
    return outputValue(output, this.name) as Awaited<R>;
  }

  /** Starts the function remotely without waiting; see {@linkcode FunctionCall}. */
  async spawn(...args: Args): Promise<FunctionCall<Awaited<R>>> {
    const payload = encodeArgs(`${this.name}.spawn()`, args);
    const session = await currentSession(`${this.name}.spawn()`);
    const id = await session.spawn(session.functionId(this.name), payload);
    return new FunctionCall<Awaited<R>>(id, this.name);
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
    checkIterable(`${this.name}.map()`, inputs);
    return this.#run(`${this.name}.map`, inputs, (x) => [x] as unknown as Args, options);
  }

  /** Like {@linkcode RemoteFunction.map}, but each item is the full argument list. */
  starmap(
    inputs: AnyIterable<Args>,
    options: MapOptions & { returnExceptions: true },
  ): AsyncGenerator<Awaited<R> | Error>;
  /** Runs the function on each argument list and yields the results. */
  starmap(inputs: AnyIterable<Args>, options?: MapOptions): AsyncGenerator<Awaited<R>>;
  starmap(inputs: AnyIterable<Args>, options: MapOptions = {}): AsyncGenerator<Awaited<R> | Error> {
    checkIterable(`${this.name}.starmap()`, inputs);
    return this.#run(`${this.name}.starmap`, inputs, (x) => {
      if (!Array.isArray(x)) {
        throw new InvalidError(
          `${this.name}.starmap() needs each item to be an array of arguments, got ${typeof x}`,
        );
      }
      return x;
    }, options);
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
  ): AsyncGenerator<Awaited<R> | Error> {
    for (const key of Object.keys(options)) {
      if (key !== "order" && key !== "returnExceptions") {
        throw new InvalidError(
          `Unknown option "${key}" for ${label}(): valid options are order, returnExceptions`,
        );
      }
    }
    const order = options.order ?? true;
    const session = await currentSession(`${label}()`);
    const functionId = session.functionId(this.name);
    const encoded = (async function* (name: string) {
      for await (const item of toAsync(inputs)) yield encodeArgs(`${name}()`, toArgs(item));
    })(label);
    const settle = (out: Output): Awaited<R> | Error => {
      if (out.status === ResultStatus.SUCCESS) return outputValue(out, this.name) as Awaited<R>;
      const err = outputError(out, this.name);
      if (options.returnExceptions) return err;
      throw err;
    };
    const pending = new Map<number, Output>();
    let next = 0;
    for await (const out of session.map({ functionId, inputs: encoded, label })) {
      if (!order) {
        yield settle(out);
        continue;
      }
      pending.set(out.idx, out);
      while (pending.has(next)) {
        const ready = pending.get(next)!;
        pending.delete(next++);
        yield settle(ready);
      }
    }
  }
}

function checkIterable(where: string, inputs: unknown): void {
  const ok = inputs !== null && typeof inputs === "object" &&
    (Symbol.iterator in inputs || Symbol.asyncIterator in inputs);
  if (!ok && typeof inputs !== "string") {
    throw new InvalidError(
      `${where} needs an iterable of inputs (an array, a Set, a generator, ...), got ${
        inputs === null ? "null" : typeof inputs
      }`,
    );
  }
}
