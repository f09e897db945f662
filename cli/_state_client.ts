/**
 * How `secret` and `volume` reach their state: the control plane of
 * `--server` / `NANO_MODAL_SERVER`, else this user's local `nano-modal serve`
 * if one runs (keeping its state in the data dir named, when one is:
 * `--data-dir`, `NANO_MODAL_DATA_DIR`), else the data dir itself (the same one
 * `serve` and an embedded `run` use), opened in this process.
 * RPC failures become one line saying what to do.
 */
import { Code, ConnectError, type Transport } from "../proto/deps.ts";
import { createRpcTransport } from "../proto/transport.ts";
import { localStateTransport } from "../control/mod.ts";
import { type ChosenServer, configuredDataDir, configuredServer, tokenFor } from "./config.ts";
import { discoverLocalServer, realPathOf } from "../proto/local_server.ts";
import { openDataDir } from "./_embedded.ts";
import { UsageError } from "./errors.ts";

/** A connection for one command. */
export interface StateConnection {
  /** The server's URL, or the data dir. */
  url: string;
  /** Where the RPCs go. */
  transport: Transport;
  /** Runs an RPC, turning its failure into a {@linkcode UsageError}. */
  rpc<T>(fn: () => Promise<T>): Promise<T>;
  /** Closes the connection or the data dir. */
  close(): Promise<void>;
}

/** Opens the server `--server`/`--token` (or the environment) name, else the data dir. */
export async function connectState(
  values: Record<string, string | boolean | undefined>,
): Promise<StateConnection> {
  // With a data dir named (--data-dir, NANO_MODAL_DATA_DIR), a local server only if it keeps
  // its state there: another's is not the one meant.
  const namedDir = values["data-dir"] !== undefined || Deno.env.get("NANO_MODAL_DATA_DIR")
    ? realPathOf(configuredDataDir(values["data-dir"]))
    : undefined;
  const named = configuredServer(values.server);
  const found = named
    ? undefined
    : await discoverLocalServer((s) => namedDir === undefined || s.dataDir === namedDir);
  const server: ChosenServer | undefined = named
    ? { url: named, local: false }
    : found && { url: found.url, local: true };
  if (!server) {
    const dataDir = configuredDataDir(values["data-dir"]);
    const store = await openDataDir(dataDir);
    return {
      url: dataDir,
      transport: localStateTransport(store, { dataDir }),
      rpc: async (fn) => {
        try {
          return await fn();
        } catch (err) {
          if (err instanceof ConnectError) throw new UsageError(err.rawMessage);
          throw err;
        }
      },
      close: () => store.close(),
    };
  }
  const url = server.url;
  const { transport, close: closeRpc } = createRpcTransport({
    baseUrl: url,
    token: tokenFor(server, values.token),
  });
  const close = () => Promise.resolve(closeRpc());
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
  "data-dir": { type: "string" },
} as const;

/** `2026-11-28 15:04` in UTC. */
export function shortDate(ms: number): string {
  return ms ? new Date(ms).toISOString().slice(0, 16).replace("T", " ") : "-";
}
