/**
 * The wire messages and services generated from `nano_modal.proto`: the one
 * door to `gen/`. Imports only `@bufbuild/protobuf`, never Connect, so SDK
 * files that end up in user bundles may use it.
 * @module
 */
export * from "./gen/nano_modal_pb.ts";
// How messages are made and (de)coded: protobuf's own functions, pinned here
// once (deps.ts re-exports them beside Connect).
export { create, fromBinary, type MessageInitShape, toBinary } from "npm:@bufbuild/protobuf@2.17.0";
