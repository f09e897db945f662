/**
 * The SDK's version, read from the package's `deno.json` so that the SDK, the
 * CLI (`nano-modal --version`) and the control plane (`Ping`) report one number.
 * @module
 */
import config from "../deno.json" with { type: "json" };

/**
 * This package's version (semver), as in its `deno.json`.
 *
 * @example
 * ```ts
 * import { VERSION } from "@nano/modal";
 * console.log(`nano-modal SDK ${VERSION}`);
 * ```
 */
export const VERSION: string = config.version;
