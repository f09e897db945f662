/**
 * The control plane: what the rest of the project may use from `control/`.
 * Start a server with {@linkcode startServer} over a store from
 * {@linkcode openEmbeddedStore} (durable records on a data dir),
 * {@linkcode connectRedisStore} or {@linkcode createMemoryStore} (tests).
 * @module
 */
export {
  connectRedisStore,
  createMemoryStore,
  type EmbeddedStoreOptions,
  openEmbeddedStore,
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
export { defaultDataDir, localStateTransport, type StateOptions } from "./state_services.ts";
export { SecretCipher, SecretKeyError } from "./secret_cipher.ts";
/** Types of the shared kernel that appear in the signatures above. */
export type { Clock, TimerHandle } from "../proto/mod.ts";
/** The key in the dashboard login URL `serve` prints (derived from the token; opens no RPC). */
export { dashboardKey } from "./dashboard/mod.ts";
