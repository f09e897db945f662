/**
 * How `secret` and `volume` reach a control plane: `--server`, then
 * `NANO_MODAL_SERVER`, then a local server on the default port; RPC failures
 * become one line saying what to do.
 */
import { Code, ConnectError, type Transport } from "../proto/mod.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { configuredServer, configuredToken } from "./config.ts";
import { UsageError } from "./errors.ts";

/** A connection for one command. */
export interface StateConnection {
  url: string;
  transport: Transport;
  /** Runs an RPC, turning its failure into a {@linkcode UsageError}. */
  rpc<T>(fn: () => Promise<T>): Promise<T>;
  close(): void;
}

/** Opens the connection `--server`/`--token` (or the environment) name. */
export function connectState(
  values: Record<string, string | boolean | undefined>,
): StateConnection {
  const url = configuredServer(values.server) ?? "http://127.0.0.1:50051";
  const { transport, close } = createRpcTransport({
    baseUrl: url,
    token: configuredToken(values.token),
  });
  return {
    url,
    transport,
    close,
    async rpc(fn) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof ConnectError)) throw err;
        if (err.code === Code.Unavailable || err.code === Code.Unknown) {
          throw new UsageError(
            `Cannot reach the nano-modal server at ${url} (${err.rawMessage}): start it with \`nano-modal serve\`, or pass --server / set NANO_MODAL_SERVER`,
          );
        }
        if (err.code === Code.Unimplemented) {
          throw new UsageError(
            `The server at ${url} does not serve secrets and volumes: upgrade it`,
          );
        }
        if (err.code === Code.Unauthenticated) {
          throw new UsageError(
            `The server at ${url} refused our token: set NANO_MODAL_TOKEN to the server's token`,
          );
        }
        throw new UsageError(err.rawMessage);
      }
    },
  };
}

/** Shared flags of these commands. */
export const CONNECTION_FLAGS = {
  server: { type: "string" },
  token: { type: "string" },
} as const;

/** `2026-11-28 15:04` in UTC. */
export function shortDate(ms: number): string {
  return ms ? new Date(ms).toISOString().slice(0, 16).replace("T", " ") : "-";
}
