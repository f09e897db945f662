/**
 * The npm packages the control plane uses, pinned in one place with full
 * `npm:` specifiers (as in `proto/deps.ts`).
 * @module
 */
export { Redis, type RedisOptions } from "npm:ioredis@5.8.2";
export { Counter, Gauge, Histogram, Registry as MetricsRegistry } from "npm:prom-client@15.1.3";
export { Cron } from "npm:croner@9.1.0";
