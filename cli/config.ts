/** Settings shared by commands: flags first, then the environment. */
import { serverUrl } from "./_args.ts";
import { UsageError } from "./errors.ts";

/** The server to use, if one is configured (`--server`, then `NANO_MODAL_SERVER`). */
export function configuredServer(flag: string | boolean | undefined): string | undefined {
  if (typeof flag === "string") return serverUrl(flag, "--server");
  const env = Deno.env.get("NANO_MODAL_SERVER");
  return env ? serverUrl(env, "NANO_MODAL_SERVER") : undefined;
}

/** The token (`--token`, then `NANO_MODAL_TOKEN`). */
export function configuredToken(flag: string | boolean | undefined): string | undefined {
  if (typeof flag === "string" && flag) return flag;
  return Deno.env.get("NANO_MODAL_TOKEN") || undefined;
}

/**
 * Where durable state lives without Redis (`--data-dir`, then
 * `NANO_MODAL_DATA_DIR`, then `$XDG_DATA_HOME/nano-modal`, then
 * `~/.local/share/nano-modal`). `serve`, an embedded `run` and the CLI's
 * `secret` and `volume` commands all use it, so what one keeps the others find.
 */
export function configuredDataDir(flag?: string | boolean): string {
  if (typeof flag === "string" && flag) return flag;
  const env = Deno.env.get("NANO_MODAL_DATA_DIR");
  if (env) return env;
  const xdg = Deno.env.get("XDG_DATA_HOME");
  if (xdg) return `${xdg}/nano-modal`;
  const home = Deno.env.get("HOME");
  if (!home) {
    throw new UsageError(
      "Cannot tell where to keep data (no HOME): pass --data-dir or set NANO_MODAL_DATA_DIR",
    );
  }
  return `${home}/.local/share/nano-modal`;
}
