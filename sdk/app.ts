/**
 * An app: a named group of remote functions and a local entrypoint.
 * @module
 */
import { InvalidError } from "./errors.ts";
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
import {
  resolveWebEndpoint,
  WebEndpoint,
  type WebEndpointOptions,
  type WebHandler,
} from "./web_endpoint.ts";
import { type AnyClass, classRuntime, RemoteClass } from "./cls.ts";
import type { ClassOptions } from "./_class_options.ts";
import { resolveExitGrace } from "./_kinds.ts";
import { serveUntilInterrupted } from "./_serve_endpoints.ts";
import { entrypointArgument } from "./_entrypoint_flags.ts";
import { runFunction } from "./_run_function.ts";

import type { AnyFunction, LocalEntrypoint } from "./app_types.ts";

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
  readonly #endpoints = new Map<string, WebEndpoint>();
  readonly #exitHooks: (() => Promise<void>)[] = [];
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
      // An app with web endpoints and no entrypoint serves them under `nano-modal run`.
      get hasEntrypoint() {
        return entrypoint() !== undefined || endpoints.size > 0;
      },
      run: (options) => this.#run(options),
      shutdown: async () => void await Promise.allSettled(this.#exitHooks.map((h) => h())),
      deploy: (options) => this.#deploy(options),
    };
    const entrypoint = () => this.#entrypoint;
    const endpoints = this.#endpoints;
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
    this.#claim(name);
    const remote = new RemoteFunction<Parameters<F>, ReturnType<F>>(
      name,
      fn,
      resolveOptions(name, options),
    );
    this.#functions.set(name, remote as unknown as RemoteFunction<unknown[], unknown>);
    this.#raw.set(name, fn);
    return remote;
  }

  #claim(name: string): void {
    if (this.#raw.has(name)) {
      throw new InvalidError(
        `App "${this.name}" already has a function named "${name}": give each function its own name`,
      );
    }
  }

  /**
   * Declares a web endpoint: a web-standard handler the control plane serves
   * at `/web/<app>/<name>/...` while the app runs or is deployed. The handler
   * sees the path below that prefix and the original query; bodies stream
   * both ways. Public unless `requireToken`.
   *
   * @param options function options, `name` (the URL segment) and `requireToken`
   * @param handler `(req: Request) => Response | Promise<Response>`
   */
  webEndpoint(handler: WebHandler): WebEndpoint;
  /**
   * Declares a web endpoint with options.
   *
   * @param options function options, `name` (the URL segment) and `requireToken`
   * @param handler `(req: Request) => Response | Promise<Response>`
   */
  webEndpoint(options: WebEndpointOptions, handler: WebHandler): WebEndpoint;
  webEndpoint(a: WebEndpointOptions | WebHandler, b?: WebHandler): WebEndpoint {
    const [options, handler] = typeof a === "function" ? [{}, a] : [a, b];
    const resolved = resolveWebEndpoint(options, handler);
    this.#claim(resolved.name);
    const endpoint = new WebEndpoint(this.name, resolved.name, handler!, resolved.options);
    this.#endpoints.set(resolved.name, endpoint);
    this.#raw.set(resolved.name, handler as (...args: unknown[]) => unknown);
    return endpoint;
  }

  /**
   * Declares a class whose public methods run remotely, on instances chosen
   * by constructor arguments: `Model.instance("large").score.remote("a")`.
   * Each distinct argument list gets its own containers; `@enter()` methods
   * run once per container before its first input, `@exit()` methods when it
   * stops.
   *
   * @param options function options and `exitGraceMs`
   * @param cls a named class
   */
  cls<C extends AnyClass>(cls: C): RemoteClass<C>;
  /**
   * Declares a remote class with options.
   *
   * @param options function options and `exitGraceMs`
   * @param cls a named class
   */
  cls<C extends AnyClass>(options: ClassOptions, cls: C): RemoteClass<C>;
  cls<C extends AnyClass>(a: ClassOptions | C, b?: C): RemoteClass<C> {
    const [options, cls] = typeof a === "function" ? [{} as ClassOptions, a] : [a, b];
    if (typeof cls !== "function" || !/^[A-Za-z_$][\w$]*$/.test(cls.name ?? "")) {
      throw new InvalidError(
        "app.cls() needs a named class: app.cls(class Model { ... }) or app.cls({ ...options }, class Model { ... })",
      );
    }
    if (typeof options !== "object" || options === null) {
      throw new InvalidError(`the options of ${cls.name} must be an object`);
    }
    const { exitGraceMs, ...rest } = options;
    if ("schedule" in rest) {
      throw new InvalidError(`${cls.name} is a class: schedules apply to app.function() only`);
    }
    const grace = resolveExitGrace(`the options of ${cls.name}`, exitGraceMs);
    const resolved = resolveOptions(cls.name, rest);
    resolved.kind = { cls: { exitGraceMs: grace } };
    this.#claim(cls.name);
    const runtime = classRuntime(cls);
    const remote = new RemoteFunction<unknown[], unknown>(cls.name, runtime.dispatch, resolved);
    this.#functions.set(cls.name, remote);
    this.#raw.set(cls.name, runtime.dispatch);
    this.#exitHooks.push(runtime.shutdown);
    return new RemoteClass<C>(cls.name, remote);
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

  async #deploy(options: DeployOptions): Promise<DeployResult> {
    const { Session } = await loadSessionModule();
    const session = await Session.connect(options);
    try {
      const name = options.name ?? this.name;
      const specs = new Map(
        [...this.#functions, ...this.#endpoints].map(([n, f]) => [n, f.options]),
      );
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
    const specs = new Map(
      [...this.#functions, ...this.#endpoints].map(([name, f]) => [name, f.options]),
    );
    const spec = { name: this.name, functions: specs };
    // Bundling needs no server: it overlaps the start of an embedded one (`startServer`).
    const { session, bundle } = await Session.open(options, spec);
    try {
      const detach = options.detach === true;
      await session.startApp(spec, options.entryUrl, { ephemeral: true, detach, bundle });
      rt.session = session;
      if ([...specs.values()].some((o) => o.kind?.schedule)) {
        console.error(
          `Schedules run only when the app is deployed: \`nano-modal deploy\` it to run them`,
        );
      }
      const unwatch = session.watchForWorkers();
      // Ctrl-C or a kill stops the app at once: its queued inputs and containers go too.
      const signals = ["SIGINT", "SIGTERM"] as const;
      const onSignal = () => {
        (detach ? Promise.resolve() : session.stopApp()).finally(() => Deno.exit(130));
      };
      for (const sig of signals) Deno.addSignalListener(sig, onSignal);
      try {
        if (options.functionName) {
          await runFunction(this.name, this.#functions, options.functionName, options.args);
        } else if (this.#entrypoint) await this.#entrypoint(args);
        else await serveUntilInterrupted(options.serverUrl, [...this.#endpoints.values()]);
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
