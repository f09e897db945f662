/**
 * How the Redis store packs records into Redis values.
 *
 * A record is a JSON header line followed by raw bytes: the Lua scripts read
 * the header (with `cjson`) without touching the payload, and payloads travel
 * without base64 inflation.
 * @module
 */
import { Buffer } from "node:buffer";
import type { FunctionRecord } from "./app_store.ts";
import type { InputRecord } from "./call_queue.ts";
import type { OutputRecord } from "./output_store.ts";

const NEWLINE = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Wraps bytes for ioredis, which stringifies a plain `Uint8Array` argument. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Copies bytes out of a (possibly pooled) Buffer into a plain Uint8Array. */
export function toBytes(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer);
}

/** `header` as a JSON line, then `body`. */
function frame(header: unknown, body: Uint8Array): Buffer {
  const head = encoder.encode(JSON.stringify(header) + "\n");
  const out = Buffer.allocUnsafe(head.byteLength + body.byteLength);
  out.set(head, 0);
  out.set(body, head.byteLength);
  return out;
}

function unframe(value: Uint8Array): { header: unknown; body: Uint8Array } {
  const nl = value.indexOf(NEWLINE);
  if (nl < 0) throw new TypeError("Corrupt record in Redis: no header line");
  const header = JSON.parse(decoder.decode(value.subarray(0, nl)));
  return { header, body: toBytes(value.subarray(nl + 1)) };
}

/** An input's header line: the scripts rely on its order `[inputId, callId, functionId, idx, infraAttempt]`. */
function inputHead(input: InputRecord): string {
  const { inputId, callId, functionId, idx, infraAttempt } = input;
  return JSON.stringify([inputId, callId, functionId, idx, infraAttempt]) + "\n";
}

/**
 * Records of `heads[i]` then `bodies[i]`, packed in one argument for a script (the prelude's
 * `unpack_records`): each a 4-byte big-endian length, then its bytes. One argument per record
 * cost ioredis a copy and two strings of its own each: a tenth of the control plane's time in
 * a map through Redis.
 */
function pack(heads: string[], bodies: Uint8Array[]): Buffer {
  let size = 0;
  for (let i = 0; i < heads.length; i++) size += 4 + heads[i].length * 3 + bodies[i].byteLength;
  const out = Buffer.allocUnsafe(size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = 0;
  for (let i = 0; i < heads.length; i++) {
    const { written } = encoder.encodeInto(heads[i], out.subarray(at + 4));
    const body = bodies[i];
    out.set(body, at + 4 + written);
    view.setUint32(at, written + body.byteLength);
    at += 4 + written + body.byteLength;
  }
  return out.subarray(0, at);
}

/** Inputs for the enqueue script, packed in one argument (each its header line, then its arguments). */
export function packInputs(inputs: InputRecord[]): Buffer {
  return pack(inputs.map(inputHead), inputs.map((i) => i.args));
}

/** Decodes an input's record (its header from {@linkcode packInputs}). */
export function decodeInput(value: Uint8Array): InputRecord {
  const { header, body } = unframe(value);
  const [inputId, callId, functionId, idx, infraAttempt] = header as [
    string,
    string,
    string,
    number,
    number,
  ];
  return { inputId, callId, functionId, idx, args: body, infraAttempt };
}

/** What the complete script takes of one completion. */
export interface PackedCompletion {
  inputId: string;
  /** Null for the control plane's own completion. */
  leaseToken: string | null;
  output: OutputRecord;
}

/**
 * Completions for the complete script, packed in one argument: each
 * `<inputId>\n<token>\n` and then the output's record, `<idx>\n<data>` (the record the
 * script stores, {@linkcode decodeOutput}). The token is empty for the control plane's own
 * completion, else `=` and the lease token.
 */
export function packCompletions(completions: PackedCompletion[]): Buffer {
  const heads = completions.map(({ inputId, leaseToken, output }) =>
    `${inputId}\n${leaseToken === null ? "" : `=${leaseToken}`}\n${output.idx}\n`
  );
  return pack(heads, completions.map((c) => c.output.data));
}

/** Decodes an output's record (written by the complete script, see {@linkcode encodeCompletion}). */
export function decodeOutput(value: Uint8Array): OutputRecord {
  const { header, body } = unframe(value);
  return { idx: header as number, data: body };
}

/** Decodes a log message, which the publishing script frames as `<seq>\n<data>`. */
export function decodeLogs(value: Uint8Array): { seq: number; data: Uint8Array } {
  const { header, body } = unframe(value);
  return { seq: header as number, data: body };
}

/** Encodes a function record. */
export function encodeFunction(fn: FunctionRecord): Buffer {
  return frame([fn.functionId, fn.appId, fn.name], fn.def);
}

/** Decodes {@linkcode encodeFunction}. */
export function decodeFunction(value: Uint8Array): FunctionRecord {
  const { header, body } = unframe(value);
  const [functionId, appId, name] = header as [string, string, string];
  return { functionId, appId, name, def: body };
}
