/**
 * The shared kernel: the wire contract (messages, services, the npm packages
 * of the wire layer), the payload codec, the transport, content hashes and
 * the injected clock. Control plane, runner and CLI meet only here.
 *
 * This barrel pulls in Connect. SDK files that end up in user bundles import
 * the leaf modules (`messages.ts`, `payload.ts`, `clock.ts`, ...) instead, so a
 * user's bundle never carries Connect.
 * @module
 */
export * from "./messages.ts";
export * from "./deps.ts";
export * from "./async_queue.ts";
export * from "./clock.ts";
export * from "./content_hash.ts";
export * from "./deno_path.ts";
export * from "./image.ts";
export * from "./payload.ts";
export * from "./transport.ts";
export * from "./suggest.ts";
export * from "./sdk_import_map.ts";
export * from "./event_log.ts";
export type * from "./runtime.ts";
