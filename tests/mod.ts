/**
 * Test support that other folders may use (bench/ starts a real Redis the
 * way the end-to-end tests do). Everything else in tests/ is private to it.
 * @module
 */
export { type RedisServer, type RedisServerOptions, startRedis } from "./_redis_server.ts";
