/**
 * The control plane: what the rest of the project may use from `control/`.
 * @module
 */
export { type Backend, type Clock, systemClock } from "./backend.ts";
export type * from "./backend.ts";
export { MemoryBackend, type MemoryBackendOptions } from "./memory_backend.ts";
export { RedisBackend, type RedisBackendOptions, RedisUnavailableError } from "./redis_backend.ts";
export {
  type ControlServer,
  InsecureListenError,
  type ServerOptions,
  startServer,
} from "./server.ts";
export {
  defaultDataDir,
  openState,
  type OpenStateOptions,
  type StateOptions,
} from "./state_services.ts";
