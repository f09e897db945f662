/**
 * Which instance of a class an input is for. The SDK sends a class's inputs
 * as `[instance key, constructor arguments, method, ...arguments]`; the key
 * (a string the SDK derives from the constructor arguments) picks the pool of
 * containers that hold that instance.
 */
import { decodeValue } from "../proto/payload.ts";

/** The instance key of a class input; "" when the arguments have none. */
export function instanceKey(args: Uint8Array): string {
  try {
    const list = decodeValue(args);
    return Array.isArray(list) && typeof list[0] === "string" ? list[0] : "";
  } catch {
    return "";
  }
}
