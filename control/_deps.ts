/**
 * The npm packages the control plane uses, pinned in one place with full
 * `npm:` specifiers (as in `proto/deps.ts`). ioredis is in `_redis_deps.ts`,
 * loaded only by a control plane that uses Redis.
 * @module
 */
export { Cron } from "npm:croner@9.1.0";
