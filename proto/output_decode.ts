/**
 * Decodes an `Output` off the wire, and nothing else: the SDK's code inside
 * sandboxes loads it on a function's first call (see sdk/_nested_calls.ts),
 * so a bundle that imports it lazily keeps only what decoding needs.
 * @module
 */
// A full specifier, as in deps.ts: the SDK resolves it without this project's deno.json.
// deno-lint-ignore no-import-prefix
import { fromBinary } from "npm:@bufbuild/protobuf@2.17.0";
import { type Output, OutputSchema } from "./gen/nano_modal_pb.ts";

/** The `Output` message encoded in `bytes`. */
export function decodeOutput(bytes: Uint8Array): Output {
  return fromBinary(OutputSchema, bytes);
}
