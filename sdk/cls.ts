/**
 * Classes as remote functions: `app.cls(class Model { ... })`. Each distinct
 * constructor argument list is an instance with containers of its own; its
 * public methods are remote functions. Inside a container, one object per
 * instance is built on the first input, its `@enter()` methods run once, and
 * its `@exit()` methods run when the container stops.
 * @module
 */
import { InvalidError } from "./errors.ts";
import type { FunctionCall } from "./function_call.ts";
import { type AnyIterable, type MapOptions, RemoteFunction } from "./remote_function.ts";
import { lifecycleOf } from "./decorators.ts";
import { encodeValue } from "../proto/payload.ts";

/** Any class that `app.cls` accepts. */
// deno-lint-ignore no-explicit-any
export type AnyClass = new (...args: any[]) => any;

/** Any method of a class made remote. */
// deno-lint-ignore no-explicit-any
export type Method = (...args: any[]) => any;

/**
 * One method of a class instance, called remotely; its types come from the method.
 *
 * @example
 * ```ts
 * import { App, type RemoteMethod } from "@nano/modal";
 * const app = new App("demo");
 * const Model = app.cls(class Model {
 *   score(word: string) { return word.length; }
 * });
 * const score: RemoteMethod<[string], number> = Model.instance().score;
 * console.log(typeof score.remote);
 * ```
 */
export interface RemoteMethod<Args extends unknown[], R> {
  /** Runs the method remotely. */
  remote(...args: Args): Promise<Awaited<R>>;
  /** Starts the method without waiting. */
  spawn(...args: Args): Promise<FunctionCall<Awaited<R>>>;
  /** Runs the method on each item and yields the results. */
  map(inputs: AnyIterable<Args[0]>, options?: MapOptions): AsyncGenerator<Awaited<R>>;
  /** Runs the method on each argument list and yields the results. */
  starmap(inputs: AnyIterable<Args>, options?: MapOptions): AsyncGenerator<Awaited<R>>;
  /** Runs the method on each item and waits for all, discarding results. */
  forEach(inputs: AnyIterable<Args[0]>, options?: Omit<MapOptions, "order">): Promise<void>;
}

/**
 * An instance handle: every public method of the class, as a {@linkcode RemoteMethod}.
 *
 * @example
 * ```ts
 * import { App, type RemoteInstance } from "@nano/modal";
 * const app = new App("demo");
 * class Counter { add(n: number) { return n + 1; } }
 * const C = app.cls(Counter);
 * const handle: RemoteInstance<Counter> = C.instance();
 * console.log(typeof handle.add.map);
 * ```
 */
export type RemoteInstance<T> = {
  [K in keyof T as T[K] extends Method ? K : never]: T[K] extends Method
    ? RemoteMethod<Parameters<T[K]>, ReturnType<T[K]>>
    : never;
};

/**
 * The class behind `T`: `T` itself if it is a class, the wrapped class if it
 * is a {@linkcode RemoteClass} (`typeof Model` of `const Model = app.cls(...)`),
 * else any class. {@linkcode RemoteClass.fromName} takes it.
 *
 * @example
 * ```ts
 * import type { ClassOf } from "@nano/modal";
 * class Model { score(word: string) { return word.length; } }
 * const cls: ClassOf<typeof Model> = Model;
 * console.log(cls.name); // "Model"
 * ```
 */
export type ClassOf<T> = T extends RemoteClass<infer C> ? C
  : T extends AnyClass ? T
  : AnyClass;

/**
 * A class made remote by `app.cls`.
 *
 * @example
 * ```ts
 * import { App } from "@nano/modal";
 * const app = new App("demo");
 * const Model = app.cls(class Model {
 *   constructor(readonly size = "small") {}
 *   describe() { return `a ${this.size} model`; }
 * });
 * app.localEntrypoint(async () => {
 *   console.log(await Model.instance("large").describe.remote()); // "a large model"
 * });
 * ```
 */
export class RemoteClass<C extends AnyClass> {
  /** The class's name within its app. */
  readonly name: string;
  readonly #fn: RemoteFunction<unknown[], unknown>;

  /** Made by `app.cls`; not constructed directly. */
  constructor(name: string, fn: RemoteFunction<unknown[], unknown>) {
    this.name = name;
    this.#fn = fn;
  }

  /**
   * A class of a deployed app, found by name when first called. Works from
   * any script with `NANO_MODAL_SERVER` set (plain `deno run`), from a running
   * app, and from inside functions. Each call goes to the app's current
   * version.
   *
   * @typeParam T the class's type: `typeof Model` (the remote class, imported with
   *   `import type`) or the class itself; without it, methods are untyped
   * @param appName the name the app was deployed under
   * @param className the class's name within the app
   * @example
   * ```ts
   * import { RemoteClass } from "@nano/modal";
   * class Model {
   *   constructor(readonly size = "small") {}
   *   score(word: string) { return word.length; }
   * }
   * const Deployed = RemoteClass.fromName<typeof Model>("demo", "Model");
   * const large = Deployed.instance("large");
   * console.log(typeof large.score.remote); // "function"; `await large.score.remote("a")` calls it
   * ```
   */
  static fromName<T = AnyClass>(appName: string, className: string): RemoteClass<ClassOf<T>> {
    for (const [what, value] of [["app name", appName], ["class name", className]]) {
      if (typeof value !== "string" || !/^[A-Za-z0-9_$][A-Za-z0-9._$-]{0,63}$/.test(value)) {
        throw new InvalidError(
          `RemoteClass.fromName needs a valid ${what}, got ${JSON.stringify(value)}`,
        );
      }
    }
    const fn = RemoteFunction.fromName<(...args: unknown[]) => unknown>(appName, className);
    return new RemoteClass<ClassOf<T>>(className, fn);
  }

  /** The instance for these constructor arguments (containers are made on first call). */
  instance(...args: ConstructorParameters<C>): RemoteInstance<InstanceType<C>> {
    const ctorArgs = [...args];
    const bytes = encodeValue(ctorArgs, "constructor arguments");
    const key = instanceKey(bytes);
    const fn = this.#fn;
    const label = this.name;
    const methods = new Map<string, RemoteMethod<unknown[], unknown>>();
    return new Proxy({}, {
      get(_t, prop) {
        if (typeof prop !== "string" || prop === "then") return undefined;
        let m = methods.get(prop);
        if (!m) methods.set(prop, m = methodHandle(fn, `${label}.${prop}`, [key, ctorArgs, prop]));
        return m;
      },
    }) as RemoteInstance<InstanceType<C>>;
  }
}

function methodHandle(
  fn: RemoteFunction<unknown[], unknown>,
  label: string,
  prefix: unknown[],
): RemoteMethod<unknown[], unknown> {
  const star = (inputs: AnyIterable<unknown[]>) =>
    (async function* () {
      for await (const args of inputs as AsyncIterable<unknown[]>) {
        if (!Array.isArray(args)) {
          throw new InvalidError(`${label}.starmap() needs each item to be an array of arguments`);
        }
        yield [...prefix, ...args];
      }
    })();
  const single = (inputs: AnyIterable<unknown>) =>
    (async function* () {
      for await (const x of inputs as AsyncIterable<unknown>) yield [x];
    })();
  return {
    remote: (...args) => fn.remote(...prefix, ...args),
    spawn: (...args) => fn.spawn(...prefix, ...args),
    map: (inputs, options) => fn.starmap(star(single(inputs)), options),
    starmap: (inputs, options) => fn.starmap(star(inputs), options),
    forEach: async (inputs, options) => {
      for await (const _ of fn.starmap(star(single(inputs)), { ...options, order: false })) {
        // Results are discarded.
      }
    },
  };
}

/** A short, stable key for a constructor argument list. */
function instanceKey(bytes: Uint8Array): string {
  let a = 0x811c9dc5, b = 0x01000193 ^ bytes.length;
  for (const byte of bytes) {
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x5bd1e995);
  }
  return `${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}-${bytes.length}`;
}

/**
 * What runs inside a container for a class: builds one object per instance
 * key on first use (running `@enter()` methods), calls methods on it, and
 * runs `@exit()` methods when the container stops.
 */
export function classRuntime(cls: AnyClass): {
  dispatch: (...args: unknown[]) => Promise<unknown>;
  shutdown: () => Promise<void>;
} {
  const hooks = lifecycleOf(cls);
  const objects = new Map<string, Promise<Record<string, Method>>>();
  const build = async (ctorArgs: unknown[]) => {
    const obj = new cls(...ctorArgs) as Record<string, Method>;
    for (const name of hooks.enter) await obj[name]();
    return obj;
  };
  return {
    async dispatch(key, ctorArgs, method, ...args) {
      let obj = objects.get(key as string);
      if (!obj) objects.set(key as string, obj = build(ctorArgs as unknown[]));
      const o = await obj;
      const name = String(method);
      if (typeof o[name] !== "function" || hooks.enter.includes(name) || name === "constructor") {
        throw new InvalidError(`${cls.name} has no method "${name}" to call remotely`);
      }
      return await o[name](...args);
    },
    async shutdown() {
      for (const obj of objects.values()) {
        const o = await obj.catch(() => undefined);
        if (!o) continue;
        for (const name of hooks.exit) {
          try {
            await o[name]();
          } catch (err) {
            console.error(`${cls.name}.${name} (@exit) failed:`, err);
          }
        }
      }
    },
  };
}

/** Options of `app.cls`: the function options and the exit grace period. */
export { type ClassOptions } from "./_class_options.ts";
