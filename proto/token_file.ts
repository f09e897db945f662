/**
 * Where a server started without a configured token keeps the one it
 * generated, so that clients and workers of the same user on the same host
 * find it: `$XDG_CONFIG_HOME/nano-modal/token`, else
 * `~/.config/nano-modal/token`, readable by its owner only (0600).
 *
 * Reading never throws: a client without the permission or the file simply
 * has no token, and the server's refusal says which to set.
 * @module
 */

/** The path of the token file, or `undefined` if neither `XDG_CONFIG_HOME` nor `HOME` is known. */
export function tokenFilePath(): string | undefined {
  try {
    const xdg = Deno.env.get("XDG_CONFIG_HOME");
    if (xdg) return `${xdg}/nano-modal/token`;
    const home = Deno.env.get("HOME");
    return home ? `${home}/.config/nano-modal/token` : undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

/**
 * The token a local server generated, if this process may read it.
 *
 * @example
 * ```ts
 * import { readTokenFile } from "./token_file.ts";
 * const token = Deno.env.get("NANO_MODAL_TOKEN") || readTokenFile();
 * ```
 */
export function readTokenFile(): string | undefined {
  const path = tokenFilePath();
  if (!path) return undefined;
  try {
    // Never prompt: a script run without --allow-read simply has no file token.
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return undefined;
    return Deno.readTextFileSync(path).trim() || undefined;
  } catch {
    return undefined;
  }
}
