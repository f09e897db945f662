/**
 * The `deno` binary that bundles apps and runs sandboxes, for clients and
 * workers alike. Normally the running one; a `deno compile`d nano-modal is not
 * a deno, so it uses `NANO_MODAL_DENO` or the `deno` on PATH.
 * @module
 */

const COMPILED = import.meta.url.includes("/deno-compile-");

/**
 * Path of the deno binary to run subcommands (`bundle`, `run`) with.
 *
 * @example
 * ```ts
 * import { denoPath } from "./deno_path.ts";
 * console.log(denoPath().endsWith("deno"));
 * ```
 */
export function denoPath(): string {
  const explicit = Deno.env.get("NANO_MODAL_DENO");
  if (explicit) {
    try {
      if (Deno.statSync(explicit).isFile) return explicit;
    } catch {
      // Reported below.
    }
    throw new Error(
      `NANO_MODAL_DENO is ${explicit}, which is not a file: point it at a deno binary`,
    );
  }
  if (!COMPILED) return Deno.execPath();
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir && Deno.statSync(`${dir}/deno`).isFile) return `${dir}/deno`;
    } catch {
      // Not in this directory.
    }
  }
  throw new Error(
    "nano-modal needs the deno binary to bundle apps and run sandboxes: install Deno 2 or set NANO_MODAL_DENO",
  );
}
