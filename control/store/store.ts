/**
 * The store: everything the control plane remembers, as narrow contracts
 * composed into one {@linkcode Store}. Control planes are stateless over a
 * store, so several may share one Redis.
 * @module
 */
import type { Clock } from "../../proto/clock.ts";
import type { AppStore } from "./app_store.ts";
import type { BlobStore } from "./blob_store.ts";
import type { CallQueue } from "./call_queue.ts";
import type { LogBus } from "./log_bus.ts";
import type { OutputStore } from "./output_store.ts";
import type { WorkerRegistry } from "./worker_registry.ts";
import type { SecretStore } from "./secret_store.ts";
import type { VolumeStore } from "./volume_store.ts";
import type { DeploymentStore } from "./deployment_store.ts";
import type { TickLeases } from "./tick_leases.ts";

/** Every part of the control plane's state. */
export interface Store {
  /** Short name for logs and `Ping`: "memory", "embedded" or "redis". */
  readonly kind: string;
  /** Apps and their functions. */
  readonly apps: AppStore;
  /** Content-addressed blobs (bundles). */
  readonly blobs: BlobStore;
  /** Inputs and leases. */
  readonly queue: CallQueue;
  /** Calls and their outputs. */
  readonly outputs: OutputStore;
  /** Log fan-out. */
  readonly logs: LogBus;
  /** Live workers. */
  readonly workers: WorkerRegistry;
  /** Secrets, sealed. */
  readonly secrets: SecretStore;
  /** Volume trees and their content chunks. */
  readonly volumes: VolumeStore;
  /** Deployed names and versions, ephemeral heartbeats, call depths, kept logs. */
  readonly deployments: DeploymentStore;
  /** Which control plane runs each tick of a schedule. */
  readonly ticks: TickLeases;
  /** Configuration problems that can lose data, as messages for the operator. */
  warnings(): Promise<string[]>;
  /** Ends pending waits and releases connections and files. */
  close(): Promise<void>;
}

/** What every store factory takes. */
export interface StoreOptions {
  /** Time for leases, waits and retention. @default systemClock */
  clock?: Clock;
  /** How long finished calls stay retrievable. @default 86_400_000 (24 h) */
  retentionMs?: number;
  /**
   * The memory and embedded stores' byte budget for held results and call records: past it
   * the oldest finished calls are evicted. Redis keeps results for `retentionMs` instead.
   * @default 67_108_864 (64 MiB)
   */
  retainedOutputBytes?: number;
}

/** The default of {@linkcode StoreOptions.retentionMs}. */
export const DEFAULT_RETENTION_MS = 86_400_000;
