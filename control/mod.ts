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
export type { AppStore, Deployment, DeploymentVersion } from "./store/app_store.ts";
export { MemoryAppStore } from "./store/memory_app_store.ts";
export { RedisAppStore } from "./store/redis_app_store.ts";
export { Redis } from "./_deps.ts";
