/** A control-plane client for CLI commands that manage apps, with errors a user can act on. */
import { Code, ConnectError, createClient } from "../proto/deps.ts";
import { ControlService } from "../proto/messages.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { type ChosenServer, serverOrLocal, tokenFor } from "./config.ts";
import { UsageError } from "./errors.ts";

/** A client and how to let go of it. */
export interface CliClient {
  client: ReturnType<typeof createClient<typeof ControlService>>;
  serverUrl: string;
  close(): void;
}

/**
 * The server from `--server`/`NANO_MODAL_SERVER`, else this user's local
 * `nano-modal serve`; `what` names the command in the error.
 */
export async function requireServer(
  flag: string | boolean | undefined,
  what: string,
): Promise<ChosenServer> {
  const server = await serverOrLocal(flag);
  if (!server) {
    throw new UsageError(
      `${what} needs a running control plane: start one with \`nano-modal serve\` (found on this machine by itself), or pass --server URL or set NANO_MODAL_SERVER`,
    );
  }
  return server;
}

/** Connects to the configured server (or the local one). */
export async function connect(
  values: Record<string, string | boolean | undefined>,
  what: string,
): Promise<CliClient> {
  const server = await requireServer(values.server, what);
  const serverUrl = server.url;
  const rpc = createRpcTransport({ baseUrl: serverUrl, token: tokenFor(server, values.token) });
  return { client: createClient(ControlService, rpc.transport), serverUrl, close: rpc.close };
}

/** Runs an RPC; its failure becomes one line saying what to do. */
export async function rpc<T>(serverUrl: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    switch (err.code) {
      case Code.Unavailable:
      case Code.Unknown:
        throw new UsageError(
          `Cannot reach the nano-modal server at ${serverUrl} (${err.rawMessage}): start it with \`nano-modal serve\`, or check --server / NANO_MODAL_SERVER`,
        );
      case Code.Unauthenticated:
        throw new UsageError(
          `The server at ${serverUrl} refused our token: set NANO_MODAL_TOKEN to the server's token`,
        );
      default:
        throw new UsageError(err.rawMessage);
    }
  }
}
