/** Settings shared by commands: flags first, then the environment. */
import { serverUrl } from "./_args.ts";

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
