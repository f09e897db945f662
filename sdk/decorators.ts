/**
 * `@enter()` and `@exit()`: TC39 method decorators that mark a class's
 * lifecycle hooks. They record the method's name in the class's metadata
 * (`Class[Symbol.metadata]`), which survives bundling.
 * @module
 */
import { InvalidError } from "./errors.ts";

// Deno has decorator metadata; make sure the well-known symbol exists everywhere.
(Symbol as { metadata?: symbol }).metadata ??= Symbol.for("Symbol.metadata");

const ENTER = Symbol.for("nano-modal.enter");
const EXIT = Symbol.for("nano-modal.exit");

/** What `@enter()` and `@exit()` return: a TC39 method decorator. */
export type MethodDecorator = (
  method: (...args: never[]) => unknown,
  context: ClassMethodDecoratorContext,
) => void;

function marker(key: symbol, label: string): MethodDecorator {
  return (_method, context) => {
    if (context.kind !== "method" || context.static || context.private) {
      throw new InvalidError(`@${label}() marks a public instance method of an app.cls() class`);
    }
    const meta = context.metadata as Record<symbol, string[] | undefined>;
    // A subclass gets its own list, starting from its parent's.
    const own = Object.hasOwn(meta, key) ? meta[key]! : (meta[key] = [...(meta[key] ?? [])]);
    own.push(String(context.name));
  };
}

/**
 * Marks a method that runs once per container, before its first input.
 * State it sets persists across the inputs that container serves.
 *
 * @example
 * ```ts
 * import { App, enter } from "@nano/modal";
 * const app = new App("demo");
 * const Model = app.cls(class Model {
 *   table = new Map<string, number>();
 *   @enter() load() { this.table.set("a", 1); }
 *   score(word: string) { return this.table.get(word) ?? 0; }
 * });
 * ```
 */
export function enter(): MethodDecorator {
  return marker(ENTER, "enter");
}

/**
 * Marks a method that runs when the container stops (scale-down, app stop,
 * worker shutdown), within the class's `exitGraceMs`.
 *
 * @example
 * ```ts
 * import { App, exit } from "@nano/modal";
 * const app = new App("demo");
 * const Db = app.cls(class Db {
 *   @exit() close() { console.log("bye"); }
 *   ping() { return "pong"; }
 * });
 * ```
 */
export function exit(): MethodDecorator {
  return marker(EXIT, "exit");
}

/** The names of a class's `@enter()` and `@exit()` methods. */
export function lifecycleOf(cls: abstract new (...args: never[]) => unknown): {
  enter: string[];
  exit: string[];
} {
  const meta = (cls as unknown as Record<symbol, Record<symbol, string[]> | undefined>)[
    Symbol.metadata
  ];
  return { enter: [...(meta?.[ENTER] ?? [])], exit: [...(meta?.[EXIT] ?? [])] };
}
