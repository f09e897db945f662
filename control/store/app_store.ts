/**
 * Apps and their functions: what `CreateApp` records and every call looks up.
 * @module
 */

/** A deployed or ephemeral app. */
export interface AppRecord {
  /** `ap-…`, chosen by the control plane. */
  appId: string;
  /** The name the user gave it. */
  name: string;
  /** Lives only while its client heartbeats (a `run`), as opposed to deployed. */
  ephemeral: boolean;
  /** Stopped apps take no new calls. */
  stopped: boolean;
  /** When it was created (ms since the epoch). */
  createdMs: number;
  /** The hex SHA-256 of its bundle, a blob in the blob store. */
  bundleHash: string;
  /** The URL its module was loaded from, for stack traces. */
  entryUrl: string;
  /** Function name -> function id. */
  functionIds: Record<string, string>;
  /**
   * The blobs its functions' images add (`addLocalFile`, `addLocalDir`), so
   * the blob sweep need not read every function; absent in records written
   * before it was kept.
   */
  imageFiles?: string[];
}

/** One function of an app; `def` is the encoded `FunctionDef` message. */
export interface FunctionRecord {
  /** `fu-…`, chosen by the control plane. */
  functionId: string;
  /** The app it belongs to. */
  appId: string;
  /** Its name in the app. */
  name: string;
  /** The encoded `FunctionDef` message; stores never parse it. */
  def: Uint8Array;
}

/** Apps and functions. All methods are safe to call concurrently. */
export interface AppStore {
  /** Stores an app and its functions, replacing an app with the same id. */
  putApp(app: AppRecord, functions: FunctionRecord[]): Promise<void>;
  /** The app with this id, if any. */
  getApp(appId: string): Promise<AppRecord | undefined>;
  /**
   * Every app, stopped ones included, in no particular order; with `live`, only those not
   * stopped (a store keeps a day of stopped runs: thousands, for a busy user, that a worker's
   * connect or a deploy need not read).
   */
  listApps(options?: { live?: boolean }): Promise<AppRecord[]>;
  /** Marks the app stopped; `false` if there is no such app. */
  stopApp(appId: string): Promise<boolean>;
  /** The function with this id, if any. */
  getFunction(functionId: string): Promise<FunctionRecord | undefined>;
  /**
   * Deletes the ephemeral apps (`run`s) stopped longer than the store's
   * retention period ago, with their functions; returns how many. Deployed
   * apps and running ones stay. Every `nano-modal run` leaves one app: kept
   * forever, they grew the store without bound.
   */
  forgetStopped(): Promise<number>;
}
