/**
 * The encoding of arguments and results on the wire: structured-clone
 * fidelity (Date, Map, Set, BigInt, typed arrays, Error, ...) through V8's
 * serializer, with a JSON fast path for plain data, which is ~30x cheaper.
 *
 * The first byte says which: `J` (UTF-8 JSON) or `V` (V8 serialization).
 * @module
 */
import { deserialize, serialize } from "node:v8";

const JSON_TAG = 0x4a; // "J"
const V8_TAG = 0x56; // "V"
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Thrown when a value cannot cross the wire without losing what it is. */
export class UnsendableValueError extends TypeError {
  /** Creates the error; `at.path` says where in the value the problem is, `at.hint` what to do. */
  constructor(what: string, at: { path: string; hint?: string }) {
    super(
      `Cannot send ${what} at ${at.path || "the top level"}: ${
        at.hint ??
          "only data crosses to a remote function (plain objects, arrays, primitives, Date, Map, Set, BigInt, typed arrays, Error)"
      }`,
    );
    this.name = "UnsendableValueError";
  }
}

const cloneableProtos = new Set<unknown>([
  Object.prototype,
  null,
  Array.prototype,
  Date.prototype,
  RegExp.prototype,
  Map.prototype,
  Set.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
  Boolean.prototype,
  Number.prototype,
  String.prototype,
  BigInt.prototype,
  Uint8Array.prototype,
  Int8Array.prototype,
  Uint8ClampedArray.prototype,
  Uint16Array.prototype,
  Int16Array.prototype,
  Uint32Array.prototype,
  Int32Array.prototype,
  Float32Array.prototype,
  Float64Array.prototype,
  BigInt64Array.prototype,
  BigUint64Array.prototype,
  Error.prototype,
  EvalError.prototype,
  RangeError.prototype,
  ReferenceError.prototype,
  SyntaxError.prototype,
  TypeError.prototype,
  URIError.prototype,
]);

/** Deeper values would exhaust the stack of whoever walks them (us, JSON, V8, the receiver). */
export const MAX_NESTING = 1_000;

function shortPath(path: string): string {
  return path.length > 80 ? `${path.slice(0, 40)}…${path.slice(-30)}` : path;
}

/**
 * Checks that `value` survives a round trip, and reports whether plain JSON
 * is enough to carry it.
 */
function inspect(value: unknown, path: string, seen: Set<object>, depth = 0): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "undefined":
    case "bigint":
      return false;
    case "function":
      throw new UnsendableValueError(`a function (${value.name || "anonymous"})`, { path });
    case "symbol":
      throw new UnsendableValueError(`a symbol (${String(value)})`, { path });
  }
  if (value === null) return true;
  const obj = value as object;
  if (seen.has(obj)) return false; // cycles need V8, which handles them
  if (depth >= MAX_NESTING) {
    throw new UnsendableValueError(
      `a value nested more than ${MAX_NESTING} levels deep`,
      {
        path: shortPath(path),
        hint:
          "flatten it (e.g. an array of records instead of records nested in each other), or send it as a string you encode yourself",
      },
    );
  }
  seen.add(obj);
  const d = depth + 1;
  const proto = Object.getPrototypeOf(obj);
  if (!cloneableProtos.has(proto)) {
    if (obj instanceof Error) return false; // custom Error subclasses arrive as their base class
    const name = proto?.constructor?.name ?? "unknown";
    throw new UnsendableValueError(
      `an instance of class ${name}`,
      {
        path,
        hint:
          "it would arrive as a plain object without its class or methods; send plain data instead",
      },
    );
  }
  let json = proto === Object.prototype || proto === Array.prototype;
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      if (!(i in obj)) json = false;
      else if (!inspect(obj[i], `${path}[${i}]`, seen, d)) json = false;
    }
  } else if (obj instanceof Map) {
    for (const [k, v] of obj) {
      inspect(k, `${path}<key>`, seen, d);
      inspect(v, `${path}.get(${typeof k === "string" ? JSON.stringify(k) : "…"})`, seen, d);
    }
  } else if (obj instanceof Set) {
    for (const v of obj) inspect(v, `${path}<member>`, seen, d);
  } else if (proto === Object.prototype || proto === null) {
    for (const key of Object.keys(obj)) {
      if (!inspect((obj as Record<string, unknown>)[key], path ? `${path}.${key}` : key, seen, d)) {
        json = false;
      }
    }
  }
  seen.delete(obj);
  return json;
}

/**
 * Encodes a value for the wire.
 *
 * @throws {UnsendableValueError} for functions, symbols and class instances.
 * @example
 * ```ts
 * import { decodeValue, encodeValue } from "./payload.ts";
 * const bytes = encodeValue({ when: new Date(0) });
 * console.log(decodeValue(bytes)); // { when: 1970-01-01T00:00:00.000Z }
 * ```
 */
export function encodeValue(value: unknown, path = ""): Uint8Array {
  try {
    return encodeChecked(value, path);
  } catch (err) {
    // Nesting under the limit can still exhaust a stack that was deep already.
    if (!(err instanceof RangeError) || !/call stack/i.test(err.message)) throw err;
    throw new UnsendableValueError(
      "a value nested too deeply to encode",
      {
        path,
        hint: "flatten it (e.g. an array of records instead of records nested in each other)",
      },
    );
  }
}

/** Whether JSON carries `v` as it is: a string, a boolean, null, or a finite number but -0. */
function jsonPrimitive(v: unknown): boolean {
  return typeof v === "string" || typeof v === "boolean" || v === null ||
    (typeof v === "number" && Number.isFinite(v) && !Object.is(v, -0));
}

/**
 * Whether `value` is such a primitive, or a plain dense array of them (a call's usual
 * arguments, a function's usual result): what {@linkcode inspect} would find JSON-able,
 * found without its walk (a path string per element, a set of visited objects).
 */
function flatJson(value: unknown): boolean {
  if (!Array.isArray(value)) return jsonPrimitive(value);
  if (Object.getPrototypeOf(value) !== Array.prototype) return false;
  for (let i = 0; i < value.length; i++) {
    if (!(i in value) || !jsonPrimitive(value[i])) return false;
  }
  return true;
}

function encodeChecked(value: unknown, path: string): Uint8Array {
  if (flatJson(value) || inspect(value, path, new Set())) {
    const text = JSON.stringify(value);
    const out = new Uint8Array(text.length * 3 + 1);
    out[0] = JSON_TAG;
    const { written } = encoder.encodeInto(text, out.subarray(1));
    return out.subarray(0, written + 1);
  }
  const v8 = serialize(value);
  const out = new Uint8Array(v8.length + 1);
  out[0] = V8_TAG;
  out.set(v8, 1);
  return out;
}

/** Decodes bytes made by {@linkcode encodeValue}. */
export function decodeValue(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  const body = bytes.subarray(1);
  switch (bytes[0]) {
    case JSON_TAG:
      return JSON.parse(decoder.decode(body));
    case V8_TAG:
      // A copy: the deserializer's byte arrays view its input, which the caller may reuse.
      return deserialize(body.slice());
    default:
      throw new RangeError(`Unknown payload encoding 0x${bytes[0].toString(16)}`);
  }
}
