/**
 * Every contract's conformance cases, for one store: each per-store test file
 * calls {@linkcode storeConformance} with a setup, so all stores are held to
 * exactly the same behaviour.
 * @module
 */
import { registerCases, type StoreSetup } from "./_conformance_fixture.ts";
import { APP_STORE_CASES } from "./_app_store_conformance.ts";
import { BLOB_STORE_CASES } from "./_blob_store_conformance.ts";
import { CALL_QUEUE_CASES } from "./_call_queue_conformance.ts";
import { REQUEUE_CASES } from "./_requeue_conformance.ts";
import { OUTPUT_STORE_CASES } from "./_output_store_conformance.ts";
import { LOG_BUS_CASES } from "./_log_bus_conformance.ts";
import { WORKER_REGISTRY_CASES } from "./_worker_registry_conformance.ts";
import { SECRET_STORE_CASES } from "./_secret_store_conformance.ts";
import { VOLUME_STORE_CASES } from "./_volume_store_conformance.ts";
import { DEPLOYMENT_STORE_CASES } from "./_deployment_store_conformance.ts";
import { TICK_LEASE_CASES } from "./_tick_leases_conformance.ts";

export type { StoreFixture, StoreSetup } from "./_conformance_fixture.ts";
export { RETENTION_MS } from "./_conformance_fixture.ts";

/** Registers every contract's cases as tests named `"<name> <contract>: <case>"`. */
export function storeConformance(name: string, setup: StoreSetup): void {
  registerCases(name, "apps", APP_STORE_CASES, setup);
  registerCases(name, "blobs", BLOB_STORE_CASES, setup);
  registerCases(name, "queue", CALL_QUEUE_CASES, setup);
  registerCases(name, "queue", REQUEUE_CASES, setup);
  registerCases(name, "outputs", OUTPUT_STORE_CASES, setup);
  registerCases(name, "logs", LOG_BUS_CASES, setup);
  registerCases(name, "workers", WORKER_REGISTRY_CASES, setup);
  registerCases(name, "secrets", SECRET_STORE_CASES, setup);
  registerCases(name, "volumes", VOLUME_STORE_CASES, setup);
  registerCases(name, "deployments", DEPLOYMENT_STORE_CASES, setup);
  registerCases(name, "ticks", TICK_LEASE_CASES, setup);
}
