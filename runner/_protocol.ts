/**
 * The entrypoint protocol between a worker and a sandbox, over a unix socket
 * (the sandbox needs no network). Each frame is a 4-byte big-endian length
 * and a V8-serialized array of messages, so a burst of inputs or results
 * costs one frame. The messages are here; the framing is in `_framing.ts`.
 */

/** Worker → sandbox: run one input. */
export interface RunMessage {
  t: "run";
  id: string;
  fn: string;
  args: Uint8Array;
  /**
   * At most this many inputs run at once in the sandbox (the function's
   * `concurrency`); inputs sent past it wait there in arrival order. Absent: no limit.
   */
  max?: number;
  /** A web request: `args` is its JSON head; bodies travel as {@linkcode BodyMessage}s. */
  web?: boolean;
}

/** Either way: a piece of a web request's or response's body; no `chunk` ends it. */
export interface BodyMessage {
  t: "body";
  id: string;
  chunk?: Uint8Array;
}

/**
 * Either way: the receiver of a web body took `bytes` more of it, so the sender
 * may send that many more (each body starts with `WINDOW_BYTES` of credit).
 * Negative: the receiver is gone; the sender stops (worker → sandbox: the
 * client left, so the handler's response body is cancelled).
 */
export interface CreditMessage {
  t: "credit";
  id: string;
  bytes: number;
}

/** Sandbox → worker: a web response's status and headers, before its body. */
export interface HeadMessage {
  t: "head";
  id: string;
  status: number;
  headers: [string, string][];
  /**
   * The whole body, when it was complete before the head left (a string, some
   * bytes): no {@linkcode BodyMessage} follows. Saves two messages a request.
   */
  body?: Uint8Array;
}

/** The messages of a web request's bodies and response head. */
export type WebMessage = HeadMessage | BodyMessage | CreditMessage;

/** Whether `msg` belongs to a web request's stream. */
export function isWebMessage(msg: ProtocolMessage): msg is WebMessage {
  return msg.t === "head" || msg.t === "body" || msg.t === "credit";
}

/** Sandbox → worker: the bundle is loaded; these functions exist. */
export interface ReadyMessage {
  t: "ready";
  functions: string[];
}

/** A thrown value, described for the caller. */
export interface ErrorDescription {
  name: string;
  message: string;
  stack: string;
  value?: Uint8Array;
}

/** Sandbox → worker: loading the bundle failed. */
export interface InitFailedMessage {
  t: "init-failed";
  error: ErrorDescription;
}

/** Sandbox → worker: one input finished. */
export interface DoneMessage {
  t: "done";
  id: string;
  ok: boolean;
  payload?: Uint8Array;
  error?: ErrorDescription;
  ms: number;
  /**
   * Set when the function wrote output: the sandbox then printed
   * {@linkcode syncMarker}(sync) on stdout and stderr after it, and the worker
   * holds the result until both markers arrive, so output precedes results.
   */
  sync?: number;
}

/** The line a sandbox prints on stdout and stderr to mark "all output before this is out". */
export function syncMarker(seq: number): string {
  return `\u0000nm-sync:${seq}\n`;
}

/** Matches sync markers in output text. */
// deno-lint-ignore no-control-regex -- the NUL byte keeps markers apart from anything printable
export const SYNC_MARKER = /\u0000nm-sync:(\d+)\n/g;

/**
 * Sandbox → worker: a call made by user code while running input `input`
 * (`fn.remote()` inside a function). The worker makes it on the control plane
 * under that input's lease, so the sandbox holds no credential of its own.
 * `req` is the plain fields of the request message of `method`.
 */
export interface NestedMessage {
  t: "nested";
  id: number;
  input: string;
  method: string;
  req: Record<string, unknown>;
}

/** Worker → sandbox: the answer to a {@linkcode NestedMessage}: the response's fields, or an error. */
export interface NestedReplyMessage {
  t: "nested-reply";
  id: number;
  res?: Record<string, unknown>;
  /** `code` is a Connect code name such as "not_found". */
  error?: { code: string; message: string };
}

/** How a worker answers nested calls of a sandbox. */
export type NestedHandler = (
  inputId: string,
  method: string,
  req: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

/**
 * Sandbox → worker: user code is ending the sandbox (it called `Deno.exit`, or
 * an error escaped into the event loop). The inputs running in it fail with
 * `error`, as the function's own failure.
 */
export interface FatalMessage {
  t: "fatal";
  error: ErrorDescription;
}

/** Sandbox → worker: commit or reload a mounted volume (`vol.commit()` / `vol.reload()`). */
export interface VolumeOpMessage {
  t: "volume";
  id: string;
  op: "commit" | "reload";
  name: string;
}

/** Worker → sandbox: a volume operation finished (with an error message if it failed). */
export interface VolumeDoneMessage {
  t: "volume-done";
  id: string;
  error?: string;
}

/** Any message of the protocol. */
export type ProtocolMessage =
  | RunMessage
  | ReadyMessage
  | InitFailedMessage
  | DoneMessage
  | VolumeOpMessage
  | VolumeDoneMessage
  | FatalMessage
  | NestedMessage
  | NestedReplyMessage
  | BodyMessage
  | CreditMessage
  | HeadMessage;

export {
  type ByteReader,
  type ByteWriter,
  chunkByBytes,
  FrameWriter,
  MAX_FRAME_BYTES,
  MAX_RESULT_BYTES,
  readFrames,
} from "./_framing.ts";

/**
 * The file a spare container's app is named in (`{"appName":...}`), written whole beside its
 * socket once its bundle and socket are in place (see `docker/_spare.ts`).
 */
export const SPARE_ASSIGN_FILE = "assign.json";
