/**
 * The cluster autoscaler: a loop that reads queue depth and workers from a
 * control plane over the wire and starts or drains workers through a driver
 * (`process`, `docker` or `swarm`). What the rest of the project may use.
 * @module
 */
export { Autoscaler, type AutoscalerOptions, type ClusterStats, snapshot } from "./autoscaler.ts";
export {
  Decider,
  type Decision,
  type ScalePolicy,
  type Snapshot,
  type UnitLoad,
  type WorkerLoad,
} from "./policy.ts";
export type { Driver, Unit, WorkerSpec } from "./driver.ts";
export { ProcessDriver, type ProcessDriverOptions, selfCommand } from "./process_driver.ts";
export { type DriverOptions, makeDriver } from "./make_driver.ts";
export {
  type ClusterStatus,
  connectStats,
  type StatsClient,
  type StatusApp,
  type StatusFunction,
  type StatusWorker,
} from "./stats.ts";
// Named in the options above; defined in proto/.
export type { Clock, TimerHandle } from "../proto/clock.ts";
