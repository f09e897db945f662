/**
 * ioredis, pinned, in a module of its own: only a control plane on Redis loads
 * it (about 40 ms of start-up that an embedded `run` does not pay).
 * @module
 */
export { Redis, type RedisOptions } from "npm:ioredis@5.8.2";
