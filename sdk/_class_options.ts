/** Options of `app.cls`. */
import type { FunctionOptions } from "./_options.ts";

/**
 * Options of `app.cls`: the function options (they apply to every instance's
 * containers) and how long `@exit()` methods may run.
 *
 * @example
 * ```ts
 * import type { ClassOptions } from "@nano/modal";
 * const options: ClassOptions = { memoryMiB: 512, exitGraceMs: 5_000 };
 * console.log(options.exitGraceMs);
 * ```
 */
export interface ClassOptions extends Omit<FunctionOptions, "schedule"> {
  /** How long `@exit()` methods may run before the container is killed. @default 30_000 */
  exitGraceMs?: number;
}
