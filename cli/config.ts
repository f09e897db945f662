/** Settings shared by commands: flags first, then the environment, then the local token file. */
import { serverUrl } from "./_args.ts";
import { readTokenFile, tokenFilePath } from "../proto/token_file.ts";
import { UsageError } from "./errors.ts";
import { discoverLocalServer } from "../proto/local_server.ts";

/** The server to use, if one is configured (`--server`, then `NANO_MODAL_SERVER`). */
export function configuredServer(flag: string | boolean | undefined): string | undefined {
  if (typeof flag === "string") return serverUrl(flag, "--server");
  const env = Deno.env.get("NANO_MODAL_SERVER");
  return env ? serverUrl(env, "NANO_MODAL_SERVER") : undefined;
}

/** A server to use, and whether it was found running on this machine rather than named. */
export interface ChosenServer {
  url: string;
  /** Found by itself (`proto/local_server.ts`): it takes the local token file's token. */
  local: boolean;
}

/**
 * The server to use: `--server`, then `NANO_MODAL_SERVER`, then this user's
 * local `nano-modal serve` if one is running (see `proto/local_server.ts`).
 */
export async function serverOrLocal(
  flag: string | boolean | undefined,
): Promise<ChosenServer | undefined> {
  const named = configuredServer(flag);
  if (named) return { url: named, local: false };
  const found = await discoverLocalServer();
  return found && { url: found.url, local: true };
}

/**
 * The token for `server`: `--token`; else for a local server found by itself the local token
 * file's (the only servers that announce themselves take it, whatever `NANO_MODAL_TOKEN` holds
 * for another server); else {@linkcode configuredToken}.
 */
export function tokenFor(
  server: ChosenServer | undefined,
  flag: string | boolean | undefined,
): string | undefined {
  if (!server?.local) return configuredToken(flag);
  return typeof flag === "string" && flag ? checkedToken(flag, "--token") : readTokenFile();
}

function explicitToken(flag: string | boolean | undefined): string | undefined {
  if (typeof flag === "string" && flag) return checkedToken(flag, "--token");
  const env = Deno.env.get("NANO_MODAL_TOKEN");
  return env ? checkedToken(env, "NANO_MODAL_TOKEN") : undefined;
}

/** Shortest token accepted: a short one can be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * `token` if it is usable; a token with whitespace (a stray newline from a
 * file, a space from a paste) or under {@linkcode MIN_TOKEN_LENGTH} characters
 * is refused, saying where it came from.
 */
export function checkedToken(token: string, from: string): string {
  if (/\s/.test(token)) {
    throw new UsageError(
      `The token from ${from} contains whitespace: remove it (e.g. NANO_MODAL_TOKEN=$(tr -d '[:space:]' < file))`,
    );
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new UsageError(
      `The token from ${from} has ${token.length} characters, fewer than ${MIN_TOKEN_LENGTH}: use a longer random one (e.g. openssl rand -hex 24)`,
    );
  }
  return token;
}

/** A client's token: `--token`, then `NANO_MODAL_TOKEN`, then the token a local server generated. */
export function configuredToken(flag: string | boolean | undefined): string | undefined {
  return explicitToken(flag) ?? readTokenFile();
}

/**
 * A worker's token: `--token`, then `NANO_MODAL_WORKER_TOKEN`, then what a
 * client would use (one token opens both roles unless the server separates them).
 */
export function configuredWorkerToken(flag: string | boolean | undefined): string | undefined {
  if (typeof flag === "string" && flag) return checkedToken(flag, "--token");
  const env = Deno.env.get("NANO_MODAL_WORKER_TOKEN");
  return env ? checkedToken(env, "NANO_MODAL_WORKER_TOKEN") : configuredToken(undefined);
}

/** The token a server requires, and where it came from. */
export interface ServerToken {
  token: string;
  /** The file it was read from or written to; absent when configured by flag or environment. */
  file?: string;
  /** Whether this start generated it. */
  generated: boolean;
}

/**
 * The token a server requires: `--token`, then `NANO_MODAL_TOKEN`, else the
 * one in the local token file, generated (random, 0600) if there is none yet.
 */
export function serverToken(flag: string | boolean | undefined): ServerToken {
  const explicit = explicitToken(flag);
  if (explicit) return { token: explicit, generated: false };
  const file = tokenFilePath();
  if (!file) {
    throw new UsageError(
      "No token configured and no HOME or XDG_CONFIG_HOME to keep one in: set NANO_MODAL_TOKEN or pass --token",
    );
  }
  const existing = readOwnTokenFile(file);
  if (existing) return { token: existing, file, generated: false };
  const dir = file.slice(0, file.lastIndexOf("/"));
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const token = randomToken();
  try {
    // createNew: two servers starting at once agree on whichever wrote first.
    Deno.writeTextFileSync(file, `${token}\n`, { mode: 0o600, createNew: true });
    return { token, file, generated: true };
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    const raced = readOwnTokenFile(file);
    if (!raced) throw new UsageError(`${file} is empty: delete it and start the server again`);
    return { token: raced, file, generated: false };
  }
}

/** The token in `file`, refusing one that other users could have read. */
function readOwnTokenFile(file: string): string | undefined {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(file);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new UsageError(
      `${file} is readable by other users (mode ${
        (info.mode & 0o777).toString(8)
      }): run \`chmod 600 ${file}\`, or delete it to generate a new token`,
    );
  }
  return Deno.readTextFileSync(file).trim() || undefined;
}

/** 32 random bytes, base64url: 256 bits, safe in a header and a shell. */
function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
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
