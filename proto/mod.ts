/**
 * The shared kernel that nano-modal owns: the payload codec, content hashes,
 * the injected clock, the runtime contract and small helpers. Control plane, runner and CLI meet only in `proto/`.
 *
 * The wire layer is three documented leaves beside this door, imported
 * directly rather than re-exported here:
 * - `messages.ts`: the messages and services generated from `nano_modal.proto`
 *   (every message and field is documented there; `contract_test.ts` checks it);
 * - `deps.ts`: the pinned Connect and protobuf packages;
 * - `transport.ts`: the Connect transport every client uses.
 *
 * Two reasons. Their public types are protobuf-es's and Connect's, which
 * `deno doc --lint` cannot pass whoever documents them: a generated
 * `GenMessage<T>` references `brandv2`, a type `@bufbuild/protobuf` never
 * exports. And pulling Connect in should be a visible choice: SDK files that
 * end up in user bundles import only `messages.ts` and the leaves re-exported
 * here, so a user's bundle never carries Connect.
 * @module
 */
export * from "./async_queue.ts";
export * from "./clock.ts";
export * from "./content_hash.ts";
export * from "./deno_path.ts";
export * from "./payload.ts";
export * from "./suggest.ts";
export * from "./sdk_import_map.ts";
export * from "./event_log.ts";
export type * from "./runtime.ts";
export * from "./logs_before_result.ts";
export * from "./trace.ts";
export * from "./cache_dir.ts";
