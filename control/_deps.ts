/**
 * The npm packages the control plane uses, pinned in one place with full
 * `npm:` specifiers (as in `proto/deps.ts`). ioredis is in `_redis_deps.ts`,
 * loaded only by a control plane that uses Redis.
 * @module
 */
export { Counter, Gauge, Histogram, Registry as MetricsRegistry } from "npm:prom-client@15.1.3";
export { Cron } from "npm:croner@9.1.0";
