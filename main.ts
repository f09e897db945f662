/**
 * nano-modal: the one program that is server, worker or client by subcommand.
 * This file only dispatches; each command lives in cli/.
 * @module
 */
import { cliMain } from "./cli/mod.ts";

if (import.meta.main) Deno.exit(await cliMain(Deno.args));
