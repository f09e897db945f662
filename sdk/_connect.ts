/**
 * The bridge from the SDK core to the client session, which is loaded only
 * when a call is made locally. The import target is computed so that bundlers
 * leave it out of user bundles: containers never need the client.
 */
import { InvalidError } from "./errors.ts";
import { runtime } from "./_runtime.ts";
import type { Session, SessionOptions } from "./_session.ts";
import { readTokenFile } from "../proto/token_file.ts";

type SessionModule = typeof import("./_session.ts");

/** Loads the session module. */
export function loadSessionModule(): Promise<SessionModule> {
  const specifier = ["./_session", "ts"].join(".");
  return import(new URL(specifier, import.meta.url).href);
}

/**
 * Server URL and token from the environment (`NANO_MODAL_SERVER`,
 * `NANO_MODAL_TOKEN`), else the token a local server of this user generated.
 */
export function optionsFromEnv(): SessionOptions | undefined {
  const serverUrl = Deno.env.get("NANO_MODAL_SERVER");
  if (!serverUrl) return undefined;
  return { serverUrl, token: Deno.env.get("NANO_MODAL_TOKEN") || readTokenFile() };
}

/**
 * The session calls go through: the running app's, or for calls made outside
 * an app (such as `FunctionCall.fromId(id).get()`), one made from the environment.
 */
export function currentSession(what: string): Promise<Session> {
  const rt = runtime();
  if (rt.mode === "container") {
    return Promise.reject(
      new InvalidError(
        `${what} was called inside a container: calling other functions from a remote function is not supported yet`,
      ),
    );
  }
  if (rt.session) return Promise.resolve(rt.session);
  if (!rt.detached) {
    const options = optionsFromEnv();
    if (!options) {
      return Promise.reject(
        new InvalidError(
          `${what} needs a running app: call it from app.localEntrypoint(...) and start the script with \`nano-modal run FILE\` (or set NANO_MODAL_SERVER)`,
        ),
      );
    }
    rt.detached = loadSessionModule().then((m) => m.Session.connect(options));
    rt.detached.catch(() => rt.detached = undefined);
  }
  return rt.detached;
}
