/**
 * Describes a thrown value for the caller without trusting it: user code may
 * throw a Proxy, an object whose getters throw, a null-prototype object, or an
 * Error whose `name` is a Symbol. Whatever it throws, {@linkcode describe}
 * returns plain strings (and, when the value encodes, its encoded form), so
 * one bad value fails one input, never the sandbox.
 */
import { encodeValue } from "../proto/payload.ts";
import type { ErrorDescription } from "./_protocol.ts";

/** Longest message or stack sent back; the rest is cut (a result limit applies to values). */
export const MAX_ERROR_TEXT = 64 * 1024;

/** The encoded error value is dropped past this size: name, message and stack still go. */
export const MAX_ERROR_VALUE_BYTES = 1024 * 1024;

/** Reads `obj[key]`, or `undefined` if reading throws (a getter, a Proxy trap). */
function read(obj: unknown, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** A string for any value, never throwing (Symbols, null prototypes, throwing toString). */
export function safeText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "symbol") {
    try {
      return value.description ?? "Symbol()";
    } catch {
      return "Symbol()";
    }
  }
  try {
    const json = JSON.stringify(value);
    if (typeof json === "string" && !(typeof value === "object" && json === "{}")) return json;
  } catch {
    // Cycles, BigInts, throwing getters: try String below.
  }
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function cut(text: string): string {
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}… (cut)` : text;
}

function isError(value: unknown): boolean {
  try {
    return value instanceof Error;
  } catch {
    return false; // a revoked Proxy throws on instanceof
  }
}

/**
 * Describes `err` for the caller; `dropFrames` removes lines of our own code
 * from the stack.
 */
export function describe(err: unknown, dropFrames: (stack: string) => string): ErrorDescription {
  try {
    if (isError(err)) {
      const rawName = read(err, "name");
      const name = typeof rawName === "string" && rawName ? rawName : safeText(rawName ?? "Error");
      const rawMessage = read(err, "message");
      const message = typeof rawMessage === "string" ? rawMessage : safeText(rawMessage ?? "");
      const rawStack = read(err, "stack");
      const stack = typeof rawStack === "string" ? dropFrames(rawStack) : "";
      let value: Uint8Array | undefined;
      try {
        value = encodeValue(err);
        if (value.byteLength > MAX_ERROR_VALUE_BYTES) value = undefined;
      } catch {
        value = undefined;
      }
      return { name: cut(name || "Error"), message: cut(message), stack: cut(stack), value };
    }
    return {
      name: "Error",
      message: cut(`Uncaught non-Error value: ${safeText(err)}`),
      stack: "",
    };
  } catch {
    return { name: "Error", message: "Uncaught value that cannot be described", stack: "" };
  }
}
