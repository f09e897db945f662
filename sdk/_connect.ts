/**
 * The bridge from the SDK core to the client session.
 *
 * The session (Connect over HTTP/2, bundling, uploads) is loaded with a plain
 * dynamic `import("./_session.ts")` the first time a call is made from outside
 * a container. Containers never need it, so it must stay out of user bundles:
 * `_bundle.ts` passes {@linkcode CLIENT_MODULE} to `deno bundle --external`,
 * which leaves this one import as it is instead of inlining the client. A
 * literal specifier keeps the module visible to every tool that reads the
 * import graph (`deno compile` includes it, `deno publish` rewrites it).
 */
import { InvalidError } from "./errors.ts";
import { runtime } from "./_runtime.ts";
import type { SessionOptions } from "./_session.ts";
import { readTokenFile } from "../proto/token_file.ts";
import { discoverLocalServer } from "../proto/local_server.ts";
import type { Output } from "../proto/messages.ts";
import { NestedSession } from "./_nested_calls.ts";
import type { EncodedInputs } from "./_map_inputs.ts";

/** What calls need of a session: a client's (`_session.ts`) or a container's (`_nested_calls.ts`). */
export interface CallSession {
  /** The id of a function of the running app (or the container's own app). */
  functionId(name: string): string | Promise<string>;
  /** The id of the current version's function of a deployed app. */
  lookup(appName: string, functionName: string): Promise<string>;
  call(functionId: string, args: Uint8Array): Promise<Output>;
  spawn(functionId: string, args: Uint8Array): Promise<string>;
  awaitCall(callId: string, timeoutMs: number | undefined): Promise<Output | undefined>;
  cancel(callId: string): Promise<void>;
  map(
    options: { functionId: string; inputs: EncodedInputs; label: string },
  ): AsyncGenerator<Output>;
}

/** The client module, which `_bundle.ts` keeps out of user bundles. */
export const CLIENT_MODULE: URL = new URL("./_session.ts", import.meta.url);

/** Loads the session module. */
export function loadSessionModule(): Promise<typeof import("./_session.ts")> {
  return import("./_session.ts");
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

/** This user's local `nano-modal serve`, if one runs, with the token it generated. */
async function localOptions(): Promise<SessionOptions | undefined> {
  const serverUrl = (await discoverLocalServer())?.url;
  if (!serverUrl) return undefined;
  // Only servers that take the local token file announce themselves (NANO_MODAL_TOKEN, with no
  // NANO_MODAL_SERVER, may be another server's).
  return { serverUrl, token: readTokenFile() };
}

/**
 * The session calls go through: the running app's, or for calls made outside
 * an app (such as `FunctionCall.fromId(id).get()`), one made from the environment.
 */
export function currentSession(what: string): Promise<CallSession> {
  const rt = runtime();
  if (rt.mode === "container") {
    if (!rt.nested) {
      return Promise.reject(
        new InvalidError(`${what}: this container's entrypoint cannot make calls`),
      );
    }
    rt.nestedSession ??= new NestedSession(rt.nested);
    return Promise.resolve(rt.nestedSession);
  }
  if (rt.session) return Promise.resolve(rt.session);
  if (!rt.detached) {
    rt.detached = (async () => {
      // The environment's server, else this user's local `nano-modal serve` if one runs.
      const options = optionsFromEnv() ?? await localOptions();
      if (!options) {
        throw new InvalidError(
          `${what} needs a running app: call it from app.localEntrypoint(...) and start the script with \`nano-modal run FILE\` (or set NANO_MODAL_SERVER, or start \`nano-modal serve\` on this machine)`,
        );
      }
      return (await loadSessionModule()).Session.connect(options);
    })();
    rt.detached.catch(() => rt.detached = undefined);
  }
  return rt.detached;
}
