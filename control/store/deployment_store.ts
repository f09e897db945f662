/**
 * Deployments: what the control plane remembers about apps beyond their
 * records in `store.apps` — deployed names and their versions, the
 * heartbeats that keep ephemeral apps alive, how deep in nested calls a call
 * was made, and recent output of deployed apps (so `app logs` works after the
 * client that deployed is gone).
 *
 * Memory and Redis implementations run the same conformance cases
 * (`_deployment_store_conformance.ts`). Callers pass the time in.
 * @module
 */

/** One recorded version of a deployed app. */
export interface DeploymentVersion {
  /** 1, 2, ... per name. */
  version: number;
  /** The app record (in `store.apps`) that this version runs. */
  appId: string;
  /** When it was recorded. */
  createdMs: number;
  /** The version this one restored (`app rollback`), or 0. */
  rollbackOf: number;
}

/** A deployed name and where new calls go. */
export interface Deployment {
  /** The name apps are deployed and looked up under. */
  name: string;
  /** The current version: new calls run it. */
  version: number;
  /** The app record of the current version. */
  appId: string;
  /** Set by `app stop`; cleared by the next deploy. */
  stopped: boolean;
  /** When the name was first deployed. */
  createdMs: number;
  /** When the current version was recorded. */
  updatedMs: number;
}

/** What {@linkcode DeploymentStore.recordVersion} records. */
export interface NextVersion {
  /** The app the new version runs. */
  appId: string;
  /** When it was deployed (store clock milliseconds). */
  nowMs: number;
  /** The version it rolls back to, if it is a rollback; 0 or absent otherwise. */
  rollbackOf?: number;
}

/** Deployed names, versions, heartbeats, call depths and kept logs; safe to call concurrently. */
export interface DeploymentStore {
  /**
   * Atomically records the next version of `name`, running `appId`, and
   * makes it current (and not stopped).
   */
  recordVersion(name: string, next: NextVersion): Promise<DeploymentVersion>;
  /** The deployed name, if it was ever deployed. */
  getDeployment(name: string): Promise<Deployment | undefined>;
  /** Every deployed name, sorted. */
  listDeployments(): Promise<Deployment[]>;
  /** A name's versions, oldest first. */
  versions(name: string): Promise<DeploymentVersion[]>;
  /** Marks a deployed name stopped; `false` if there is no such name. */
  stopDeployment(name: string): Promise<boolean>;

  /** Notes that an ephemeral app's client is alive at `nowMs`. */
  touchApp(appId: string, nowMs: number): Promise<void>;
  /** Apps last touched before `beforeMs`. */
  staleApps(beforeMs: number): Promise<string[]>;
  /** Stops tracking an app's heartbeat. */
  forgetApp(appId: string): Promise<void>;

  /** Records how deep in nested calls a call was made (forgotten after `ttlMs`). */
  setCallDepth(callId: string, depth: number, ttlMs: number): Promise<void>;
  /** The depth recorded for a call; 0 for calls made by clients. */
  callDepth(callId: string): Promise<number>;

  /** Appends encoded log lines of a deployed name, keeping the latest `keep`. */
  appendLogs(name: string, lines: Uint8Array[], keep: number): Promise<void>;
  /** Up to `max` of the latest log lines, oldest first. */
  recentLogs(name: string, max: number): Promise<Uint8Array[]>;
}
