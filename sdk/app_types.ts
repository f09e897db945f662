/**
 * The function and entrypoint types an {@linkcode App} takes.
 * @module
 */
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
