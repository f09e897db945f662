/**
 * Imports a module of the CLI by a specifier built at run time.
 *
 * Deno reads the whole graph of every import it can see when a program starts, dynamic ones
 * included: with each subcommand's `import("./serve.ts")` written out, every `nano-modal`
 * command first read the control plane's, the runner's and their npm packages' graphs (~13 ms,
 * half of `--version`; a run through a local server needs neither). `T` keeps the types
 * (`typeof import(...)` is read by the type checker only). Tools that read the graph find these
 * modules where they are named instead: the Dockerfile caches them, `deno task compile`
 * includes them.
 */
export function lazy<T>(path: string): Promise<T> {
  return import(new URL(path, import.meta.url).href);
}
