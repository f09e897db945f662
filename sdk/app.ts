/**
 * An app: a named group of remote functions and a local entrypoint.
 * @module
 */
import { InvalidError, NotFoundError } from "./errors.ts";
import { closest } from "../proto/suggest.ts";
import { RemoteFunction } from "./remote_function.ts";
import { type FunctionOptions, resolveOptions } from "./_options.ts";
import {
  type DeployOptions,
  type DeployResult,
  type RegisteredApp,
  type RunOptions,
  runtime,
} from "./_runtime.ts";
import { loadSessionModule } from "./_connect.ts";
import { callerUrl, runAsScript } from "./_plain_script.ts";
import { entrypointArgument } from "./_entrypoint_flags.ts";

/**
 * Any function that can be made remote.
 *
 * @example
 * ```ts
 * import type { AnyFunction } from "@nano/modal";
 * const fns: AnyFunction[] = [(x: number) => x * x, async (s: string) => s.length];
 * console.log(fns.length);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyFunction = (...args: any[]) => any;
/**
 * What a local entrypoint receives: the arguments given after `--` as a list,
 * which also carries the typed flags the entrypoint destructures.
 */
// deno-lint-ignore no-explicit-any
export type EntrypointArgs = string[] & { readonly [flag: string]: any };

/**
 * A local entrypoint: receives the arguments given after `--`. Destructure
 * flags with defaults, Modal-style, and they are parsed with the defaults'
 * types (`({ n = 10, name = "x", loud = false })` takes `-- --n 5 --name y
 * --loud`); or take the plain list.
 *
 * @example
 * ```ts
 * import { App, type LocalEntrypoint } from "@nano/modal";
 * const main: LocalEntrypoint = (args) => console.log(args); // nano-modal run app.ts -- a b
 * new App("demo").localEntrypoint(main);
 * new App("flags").localEntrypoint(({ n = 10, name = "x" }) => console.log(n * 2, name));
 * ```
 */
export type LocalEntrypoint = (args: EntrypointArgs) => unknown;

const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A named group of remote functions.
 *
 * @example
 * ```ts
 * import { App } from "@nano/modal";
 * const app = new App("demo");
 * const square = app.function(function square(x: number) {
 *   return x * x;
 * });
 * app.localEntrypoint(async () => {
 *   console.log(await square.remote(5)); // 25
 * });
 * ```
 */
export class App {
  /** The app's name. */
  readonly name: string;
  readonly #functions = new Map<string, RemoteFunction<unknown[], unknown>>();
  readonly #raw = new Map<string, (...args: unknown[]) => unknown>();
  #entrypoint?: LocalEntrypoint;

  /**
   * Creates an app.
   * @param name letters, digits, `.`, `_` and `-`, up to 64 characters
   */
  constructor(name: string) {
    if (typeof name !== "string" || !APP_NAME.test(name)) {
      throw new InvalidError(
        `App name ${
          JSON.stringify(name)
        } is not valid: use letters, digits, ".", "_" and "-" (up to 64 characters)`,
      );
    }
    this.name = name;
    const registered: RegisteredApp = {
      name,
      functions: this.#raw,
      get hasEntrypoint() {
        return entrypoint() !== undefined;
      },
      run: (options) => this.#run(options),
      deploy: (options) => this.#deploy(options),
    };
    const entrypoint = () => this.#entrypoint;
    runtime().apps.push(registered);
  }

  /**
   * Declares a remote function. Give it a name (`function square(x) {...}`):
   * containers find it by that name.
   *
   * @param options image, limits, retries and scaling (see {@linkcode FunctionOptions})
   * @param fn the function; its parameter and return types carry over
   */
  function<F extends AnyFunction>(fn: F): RemoteFunction<Parameters<F>, ReturnType<F>>;
  /**
   * Declares a remote function with options.
   *
   * @param options image, limits, retries and scaling (see {@linkcode FunctionOptions})
   * @param fn the function; its parameter and return types carry over
   */
  function<F extends AnyFunction>(
    options: FunctionOptions,
    fn: F,
  ): RemoteFunction<Parameters<F>, ReturnType<F>>;
  function<F extends AnyFunction>(
    a: FunctionOptions | F,
    b?: F,
  ): RemoteFunction<Parameters<F>, ReturnType<F>> {
    const [options, fn] = typeof a === "function" ? [{}, a] : [a, b];
    if (typeof fn !== "function") {
      throw new InvalidError(
        `app.function() needs a function, got ${typeof fn}: app.function(function name(...) {...}) or app.function({ ...options }, function name(...) {...})`,
      );
    }
    const name = fn.name;
    if (!name || !/^[A-Za-z_$][\w$]*$/.test(name)) {
      throw new InvalidError(
        `app.function() needs a named function so containers can find it: write app.function(function myName(...) {...})`,
      );
    }
    if (this.#functions.has(name)) {
      throw new InvalidError(
        `App "${this.name}" already has a function named "${name}": give each function its own name`,
      );
    }
    const remote = new RemoteFunction<Parameters<F>, ReturnType<F>>(
      name,
      fn,
      resolveOptions(name, options),
    );
    this.#functions.set(name, remote as unknown as RemoteFunction<unknown[], unknown>);
    this.#raw.set(name, fn);
    return remote;
  }

  /**
   * Declares what `nano-modal run` runs locally. When the module is run as a
   * plain script (`deno run -A app.ts`), it runs as if under `nano-modal run`.
   * Never runs inside a container.
   * @param fn receives the arguments given after `--`
   */
  localEntrypoint(fn: LocalEntrypoint): void {
    if (typeof fn !== "function") throw new InvalidError("localEntrypoint() needs a function");
    if (this.#entrypoint) {
      throw new InvalidError(
        `App "${this.name}" already has a local entrypoint: declare one per app`,
      );
    }
    this.#entrypoint = fn;
    const rt = runtime();
    if (rt.mode !== undefined) return;
    const caller = callerUrl();
    setTimeout(() => {
      if (runtime().mode === undefined && caller === Deno.mainModule) runAsScript(caller);
    }, 0);
  }

  /** `run APP.ts::fn -- args`: one remote call, its result printed. */
  async #runFunction(name: string, args: string[]): Promise<void> {
    const fn = this.#functions.get(name);
    if (!fn) {
      const hint = closest(name, this.#functions.keys());
      throw new NotFoundError(
        `App "${this.name}" has no function "${name}"${
          hint ? `: did you mean "${hint}"?` : ` (it has ${[...this.#functions.keys()].join(", ")})`
        }`,
      );
    }
    const parsed = args.map((a) => {
      try {
        return JSON.parse(a);
      } catch {
        return a;
      }
    });
    const result = await fn.remote(...parsed);
    if (result === undefined) return;
    let text: string;
    try {
      text = typeof result === "string" ? result : JSON.stringify(result);
    } catch {
      text = Deno.inspect(result, { depth: 8 });
    }
    console.log(text ?? Deno.inspect(result, { depth: 8 }));
  }

  async #deploy(options: DeployOptions): Promise<DeployResult> {
    const { Session } = await loadSessionModule();
    const session = await Session.connect(options);
    try {
      const name = options.name ?? this.name;
      const specs = new Map([...this.#functions].map(([n, f]) => [n, f.options]));
      const started = await session.startApp({ name, functions: specs }, options.entryUrl, {
        ephemeral: false,
      });
      return { name, ...started, functions: started.functionNames };
    } finally {
      session.close();
    }
  }

  async #run(options: RunOptions): Promise<void> {
    const rt = runtime();
    const args = this.#entrypoint && !options.functionName
      ? entrypointArgument(this.#entrypoint, options.args, this.name)
      : options.args;
    const { Session } = await loadSessionModule();
    const session = await Session.connect(options);
    try {
      const specs = new Map([...this.#functions].map(([name, f]) => [name, f.options]));
      const detach = options.detach === true;
      await session.startApp({ name: this.name, functions: specs }, options.entryUrl, {
        ephemeral: true,
        detach,
      });
      rt.session = session;
      const unwatch = session.watchForWorkers();
      // Ctrl-C or a kill stops the app at once: its queued inputs and containers go too.
      const signals = ["SIGINT", "SIGTERM"] as const;
      const onSignal = () => {
        (detach ? Promise.resolve() : session.stopApp()).finally(() => Deno.exit(130));
      };
      for (const sig of signals) Deno.addSignalListener(sig, onSignal);
      try {
        if (options.functionName) await this.#runFunction(options.functionName, options.args);
        else await this.#entrypoint?.(args);
      } finally {
        unwatch();
        for (const sig of signals) Deno.removeSignalListener(sig, onSignal);
        rt.session = undefined;
        if (!detach) await session.stopApp();
        else {
          console.error(
            `app "${this.name}" keeps running (detached): stop it with \`nano-modal app stop ${this.name}\``,
          );
        }
      }
    } finally {
      session.close();
    }
  }
}
