/**
 * The npm packages the wire layer uses, pinned in one place. Full `npm:`
 * specifiers (not import-map names) so the SDK resolves them even when a
 * script imports it by path, without this project's deno.json.
 * @module
 */
export {
  appendHeaders,
  type Client,
  Code,
  ConnectError,
  createClient,
  createConnectRouter,
  createHandlerContext,
  createRouterTransport,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
  type Transport,
  type UnaryResponse,
} from "npm:@connectrpc/connect@2.3.0";
export { createFetchHandler, type UniversalClientFn } from "npm:@connectrpc/connect@2.3.0/protocol";
export {
  codeToHttpStatus,
  createTransport as createConnectProtocolTransport,
  errorFromJsonBytes,
  errorToJsonBytes,
  requestHeader,
  trailerDemux,
  validateResponse,
} from "npm:@connectrpc/connect@2.3.0/protocol-connect";
export { create, fromBinary, type MessageInitShape, toBinary } from "./messages.ts";
export {
  type DescMessage,
  type DescMethod,
  type DescMethodUnary,
  type DescService,
  isMessage,
} from "npm:@bufbuild/protobuf@2.17.0";
