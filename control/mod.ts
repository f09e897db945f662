/**
 * The control plane: what the rest of the project may use from `control/`.
 * Start a server with {@linkcode startServer} over a store from
 * {@linkcode createMemoryStore} or {@linkcode connectRedisStore}.
 * @module
 */
export {
  connectRedisStore,
  createMemoryStore,
  type RedisStoreOptions,
  RedisUnavailableError,
  type Store,
  type StoreOptions,
} from "./store/mod.ts";
export type * from "./store/mod.ts";
export {
  type ControlServer,
  InsecureListenError,
  type ServerOptions,
  startServer,
} from "./server.ts";
/** Types of the shared kernel that appear in the signatures above. */
export type { Clock, TimerHandle } from "../proto/mod.ts";
