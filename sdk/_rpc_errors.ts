/** How RPC failures reach SDK users: as the SDK's own errors, saying what to do. */
import { Code, ConnectError } from "../proto/deps.ts";
import { ConnectionError, InternalFailure, InvalidError, NotFoundError } from "./errors.ts";

/** Translates RPC failures into the SDK's errors, with what to do. */
export function translateError(err: unknown, serverUrl: string): Error {
  if (!(err instanceof ConnectError)) return err as Error;
  switch (err.code) {
    case Code.Unavailable:
    case Code.Unknown:
      if (
        /ECONNREFUSED|connect|closed|reset|GOAWAY|socket|fetch|request|refused|blocked|network|timed out/i
          .test(err.rawMessage)
      ) {
        return new ConnectionError(
          `Cannot reach the nano-modal server at ${serverUrl} (${err.rawMessage}): start it with \`nano-modal serve\`, or check --server / NANO_MODAL_SERVER`,
          { cause: err },
        );
      }
      return new InternalFailure(err.rawMessage, { cause: err });
    case Code.Unauthenticated:
      return new ConnectionError(
        `The server at ${serverUrl} refused the request (${err.rawMessage}): pass --token or set NANO_MODAL_TOKEN to the server's token`,
        { cause: err },
      );
    case Code.NotFound:
      return new NotFoundError(err.rawMessage, { cause: err });
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.ResourceExhausted:
      return new InvalidError(err.rawMessage, { cause: err });
    default:
      return new InternalFailure(`${err.rawMessage} (${Code[err.code]})`, { cause: err });
  }
}

/** Whether an RPC failure may pass if retried (the connection, not the request, failed). */
export function isTransient(err: unknown): boolean {
  return err instanceof ConnectError &&
    (err.code === Code.Unavailable || err.code === Code.Unknown || err.code === Code.Aborted ||
      err.code === Code.Internal);
}

/** Waits `ms` milliseconds (between reconnection attempts). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
